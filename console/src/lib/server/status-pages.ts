import { labelsProblem } from '@vigil/core/target-schema';
import {
  addStatusPage,
  type Database,
  fleetSnapshot,
  getInventory,
  getStatusPage,
  listStatusPages,
  removeStatusPage,
  type StatusPage,
  type StatusPageGroup,
} from '@vigil/db';
import type { Kysely } from 'kysely';
import * as z from 'zod/mini';
import { availabilityClass } from '$lib/uptime';
import { type Actor, recordAudit } from './actor';
import { getDb } from './db';
import { ApiError, notFound, validate } from './errors';
import { probeUptime, targetUptime } from './uptime';

/**
 * A status page's groups as an admin types them, one per line:
 * `Name: key=value, key=value` (hosts with all those labels), or `Name` alone
 * (every host). Parsed in one pass, no regular expression.
 * @throws ApiError 422 on `groups` naming the line that is wrong
 */
export function parseGroups(text: string): StatusPageGroup[] {
  const groups: StatusPageGroup[] = [];
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length > 20) throw new ApiError(422, 'invalid', 'groups: at most 20', 'groups');
  for (const [i, line] of lines.entries()) {
    const colon = line.indexOf(':');
    const name = (colon < 0 ? line : line.slice(0, colon)).trim();
    const selector: Record<string, string> = {};
    for (const part of colon < 0 ? [] : line.slice(colon + 1).split(',')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 1) throw new ApiError(422, 'invalid', `groups: line ${i + 1}: "${p.slice(0, 40)}" must be key=value`, 'groups');
      selector[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    if (!name || name.length > 80) throw new ApiError(422, 'invalid', `groups: line ${i + 1} needs a name of 1 to 80 characters`, 'groups');
    const problem = labelsProblem(selector);
    if (problem) throw new ApiError(422, 'invalid', `groups: line ${i + 1}: ${problem}`, 'groups');
    groups.push({ name, selector });
  }
  if (groups.length === 0) throw new ApiError(422, 'invalid', 'groups: at least one line, e.g. "Web: role=web"', 'groups');
  return groups;
}

/** What an admin submits: a slug (the page's address), a title, the groups as typed, an optional note. */
export const newStatusPage = z.strictObject({
  slug: z
    .string()
    .check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, starting with a letter or digit, at most 63')),
  title: z.string().check(z.minLength(1), z.maxLength(100)),
  groups: z.string().check(z.maxLength(4000)),
  note: z.optional(z.string().check(z.maxLength(1000))),
});

/** Adds a status page (admin), audited. @throws ApiError 422 on a bad field, 409 when the slug is taken */
export async function createStatusPage(actor: Actor, input: unknown): Promise<StatusPage> {
  const v = validate(newStatusPage, input);
  const page = await addStatusPage(await getDb(), {
    slug: v.slug,
    title: v.title.trim(),
    groups: parseGroups(v.groups),
    note: v.note?.trim() || null,
  });
  await recordAudit(actor, 'status_page.create', 'status_page', page.id, {
    after: { slug: page.slug, title: page.title, groups: page.groups },
  });
  forget(page.slug);
  return page;
}

/** Removes a status page (admin), audited. @throws ApiError 404 */
export async function deleteStatusPage(actor: Actor, id: number): Promise<void> {
  const page = await removeStatusPage(await getDb(), id);
  if (!page) notFound('status page', id);
  await recordAudit(actor, 'status_page.delete', 'status_page', id, { before: { slug: page.slug, title: page.title } });
  forget(page.slug);
}

/** Every status page, for the admin page. */
export async function statusPages(): Promise<StatusPage[]> {
  return listStatusPages(await getDb());
}

/** A host as a public status page shows it: its name, state and availability; nothing else (no address, no error, no id). */
export interface PublicHost {
  name: string;
  state: 'up' | 'down' | 'unknown' | 'stopped' | 'paused';
  /** Over 30 days, 0..1, or null. */
  availability: number | null;
  /** The last 90 UTC days, oldest first, as runs of days of the same class (a page of many hosts stays small). */
  runs: DayRun[];
  /** Its probed services that have a plain name (see {@link publicProbeName}), by name. */
  probes: PublicProbe[];
}

/** A probed service on a public page: its name, whether its latest result failed, its successes over results in 30 days. */
export interface PublicProbe {
  name: string;
  failing: boolean;
  /** Over the last 30 UTC days, 0..1, or null without results. */
  availability: number | null;
}

/**
 * A probe's name as a public page may show it, or null to leave the probe
 * out: a plain name (letters, digits, spaces, `_`, `-`; at most 40) such as
 * Vigil's services file gives ("web", "mail relay"). A name with a dot, colon,
 * slash or @ may be a URL, an address or a host name (blackbox_exporter's
 * targets are named by their URL), which a public page never shows.
 */
export function publicProbeName(name: string): string | null {
  if (name.length === 0 || name.length > 40) return null;
  for (const ch of name)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch === ' ' || ch === '_' || ch === '-'))
      return null;
  return name;
}

/** Consecutive days of one availability class: the first and last day (`YYYY-MM-DD`) and how many. */
export interface DayRun {
  class: ReturnType<typeof availabilityClass>;
  from: string;
  to: string;
  days: number;
}

/** Days (oldest first) as runs of the same class. */
export function dayRuns(days: readonly { day: string; availability: number | null }[]): DayRun[] {
  const runs: DayRun[] = [];
  for (const d of days) {
    const c = availabilityClass(d.availability);
    const last = runs.at(-1);
    if (last && last.class === c) {
      last.to = d.day;
      last.days++;
    } else runs.push({ class: c, from: d.day, to: d.day, days: 1 });
  }
  return runs;
}

/** A public status page: its title, note, groups of hosts, and when it was made (ISO). */
export interface PublicStatusPage {
  title: string;
  note: string | null;
  groups: { name: string; hosts: PublicHost[] }[];
  generated_at: string;
}

/** How long a public page is reused, here and by browsers and proxies (seconds). */
export const STATUS_PAGE_MAX_AGE = 30;
/** Built pages by database (one per console; tests open several), then by slug. */
const caches = new WeakMap<Kysely<Database>, Map<string, { at: number; page: PublicStatusPage | null }>>();
/** Forgets a page built from the console's database (after an admin changed it). */
function forget(slug: string): void {
  void getDb().then((db) => caches.get(db)?.delete(slug));
}

/**
 * The public view of the status page at `slug` (null when there is none),
 * built from the fleet (one query), each shown host's state events and its
 * probes' results (those with a plain name: {@link publicProbeName}), and
 * reused for STATUS_PAGE_MAX_AGE seconds: many readers cost one build.
 */
export async function publicStatusPage(db: Kysely<Database>, slug: string, now = Date.now()): Promise<PublicStatusPage | null> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const hit = cache.get(slug);
  if (hit && now - hit.at < STATUS_PAGE_MAX_AGE * 1000) return hit.page;
  const page = await buildPublicPage(db, slug, now);
  if (cache.size > 1000) cache.clear();
  cache.set(slug, { at: now, page });
  return page;
}

async function buildPublicPage(db: Kysely<Database>, slug: string, now: number): Promise<PublicStatusPage | null> {
  const page = await getStatusPage(db, slug);
  if (!page) return null;
  const fleet = await fleetSnapshot(db);
  const uptimes = new Map<number, PublicHost>();
  const hostOf = async (t: (typeof fleet)[number]['target']): Promise<PublicHost> => {
    const known = uptimes.get(t.id);
    if (known) return known;
    const [u, probes, inventory] = await Promise.all([targetUptime(db, t, now), probeUptime(db, t.id, now), getInventory(db, t.id)]);
    const failing = new Set(inventory?.services.filter((v) => !v.success).map((v) => v.name));
    const host: PublicHost = {
      name: t.name,
      state: t.paused ? 'paused' : t.state,
      availability: u.windows['30d'].availability,
      runs: dayRuns(u.days),
      probes: probes.flatMap((p) => {
        const name = publicProbeName(p.name);
        return name === null ? [] : [{ name, failing: failing.has(p.name), availability: p.windows['30d'].availability }];
      }),
    };
    uptimes.set(t.id, host);
    return host;
  };
  const groups = [];
  for (const g of page.groups) {
    const members = fleet.filter(({ target }) => Object.entries(g.selector).every(([k, v]) => target.labels[k] === v));
    const hosts: PublicHost[] = [];
    for (const m of members.slice(0, 200)) hosts.push(await hostOf(m.target));
    groups.push({ name: g.name, hosts });
  }
  return { title: page.title, note: page.note, groups, generated_at: new Date(now).toISOString() };
}

/** Reads of public status pages allowed per client address per minute; past it, 429 until the minute has passed. */
export const STATUS_PAGE_READS_PER_MINUTE = 120;
const reads = new Map<string, { minute: number; count: number }>();

/** Whether one more public read from `address` is allowed now (a fixed window per minute, kept for at most 10,000 addresses). */
export function allowStatusRead(address: string, now = Date.now()): boolean {
  const minute = Math.floor(now / 60_000);
  const r = reads.get(address);
  if (!r || r.minute !== minute) {
    if (reads.size >= 10_000) reads.clear();
    reads.set(address, { minute, count: 1 });
    return true;
  }
  r.count++;
  return r.count <= STATUS_PAGE_READS_PER_MINUTE;
}
