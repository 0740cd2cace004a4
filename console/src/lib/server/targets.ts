/**
 * Targets: the rules a target must follow (one schema for the API, the admin
 * form and the CLI's checks to agree with) and the use cases the API routes and
 * the admin page's actions both call — validate, write, audit, answer.
 */
import {
  addTarget,
  getTarget,
  getTargetWithHeartbeat,
  queryTargets,
  removeTargetById,
  setPaused,
  type Target,
  type TargetQuery,
  updateTarget,
} from '@vigil/db';
import * as z from 'zod/mini';
import type { Page, ScrapeTestView, TargetView } from '$lib/api';
import { type Actor, recordAudit } from './actor';
import { getDb } from './db';
import { ApiError, notFound, validate } from './errors';
import { testScrape } from './scrape';
import { targetView } from './views';

/** Shortest and longest scrape interval, seconds (the schema's own check), and the shortest timeout. */
const MIN_INTERVAL = 1;
const MAX_INTERVAL = 86_400;
const MIN_TIMEOUT = 0.1;

const name = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, dot, dash or underscore, at most 63, starting with a letter or digit'),
  );

/** An exporter's metrics URL: http(s) with a host; a bare host gets /metrics. */
const url = z.pipe(
  z.string().check(z.maxLength(2000)),
  z.transform((raw, ctx) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      ctx.issues.push({
        code: 'custom',
        message: 'not a URL; give the exporter’s metrics URL, e.g. http://pi-1.lan:9110/metrics',
        input: raw,
      });
      return z.NEVER;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      ctx.issues.push({ code: 'custom', message: 'must start with http:// or https://', input: raw });
      return z.NEVER;
    }
    if (u.pathname === '/') u.pathname = '/metrics';
    return u.toString();
  }),
);

const interval = z.int().check(z.gte(MIN_INTERVAL), z.lte(MAX_INTERVAL));
const timeout = z.number().check(z.gte(MIN_TIMEOUT), z.lte(MAX_INTERVAL));
const labels = z.record(
  z.string().check(z.regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a Prometheus label name')),
  z.string().check(z.maxLength(200)),
);

/** A bearer token for one exporter (its VIGIL_EXPORTER_TOKEN), as the exporter requires: 16 to 200 printable characters. */
const token = z.string().check(z.minLength(16), z.maxLength(200), z.regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'));

/** An exporter's PTY socket: ws:// or wss://, without credentials. */
const ptyUrl = z.string().check(
  z.maxLength(500),
  z.refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'ws:' || u.protocol === 'wss:') && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'a ws:// or wss:// URL without credentials, e.g. ws://10.0.0.5:9120/pty'),
);

const timeoutWithinInterval = (v: { interval_seconds?: number; timeout_seconds?: number }) =>
  v.timeout_seconds === undefined || v.interval_seconds === undefined || v.timeout_seconds <= v.interval_seconds;

/** `POST /api/v1/targets`: a new target; the timeout defaults to min(10 s, interval) and may not exceed it. */
export const newTarget = z
  .object({
    name,
    url,
    interval_seconds: z.optional(interval),
    timeout_seconds: z.optional(timeout),
    labels: z.optional(labels),
    token: z.optional(token),
    pty_url: z.optional(ptyUrl),
  })
  .check(z.refine(timeoutWithinInterval, { message: 'timeout_seconds may not exceed interval_seconds', path: ['timeout_seconds'] }));

/** `PATCH /api/v1/targets/:id`: any of url, interval, timeout, labels, token (null: the default one again), paused. */
export const targetPatch = z
  .strictObject({
    url: z.optional(url),
    interval_seconds: z.optional(interval),
    timeout_seconds: z.optional(timeout),
    labels: z.optional(labels),
    token: z.optional(z.nullable(token)),
    pty_url: z.optional(z.nullable(ptyUrl)),
    paused: z.optional(z.boolean()),
  })
  .check(z.refine(timeoutWithinInterval, { message: 'timeout_seconds may not exceed interval_seconds', path: ['timeout_seconds'] }));

/** `POST /api/v1/targets/scrape`: a test scrape of a URL not added yet (with its token, timeout). */
export const scrapeTest = z.strictObject({
  url,
  token: z.optional(token),
  timeout_seconds: z.optional(timeout),
});

/** A page of targets, each with its newest heartbeat (the one target view; see queryTargets). */
export async function listTargetViews(query: TargetQuery & { page: number; perPage: number }): Promise<Page<TargetView>> {
  const { items, total } = await queryTargets(await getDb(), query);
  return { items: items.map((t) => targetView(t, t.heartbeat)), total, page: query.page, per_page: query.perPage };
}

/** One target with its newest heartbeat. @throws ApiError 404 */
export async function showTarget(id: number): Promise<TargetView> {
  const t = await getTargetWithHeartbeat(await getDb(), id);
  if (!t) throw new ApiError(404, 'not_found', `no target with id ${id}; it may have been removed`);
  return targetView(t, t.heartbeat);
}

async function existing(id: number): Promise<Target> {
  const t = await getTarget(await getDb(), id);
  if (!t) throw new ApiError(404, 'not_found', `no target with id ${id}; it may have been removed`);
  return t;
}

/**
 * Adds a target (see {@link newTarget}), as added in the console, audited as `target.create`.
 * @throws ApiError 422 naming a bad field; the database's TargetExistsError (409) for a name taken
 */
export async function createTarget(actor: Actor, input: unknown): Promise<TargetView> {
  const t = validate(newTarget, input);
  const added = await addTarget(await getDb(), { ...t, source: 'console' });
  const view = targetView(added);
  await recordAudit(actor, 'target.create', 'target', added.id, { after: view });
  return view;
}

/**
 * Changes a target (see {@link targetPatch}); pausing and resuming are events
 * too. The timeout may not exceed the interval, old or new. Audited as
 * `target.update`, `target.pause` or `target.resume`, with before and after.
 * @throws ApiError 404 (no such target), 422 (a bad field)
 */
export async function changeTarget(actor: Actor, id: number, input: unknown): Promise<TargetView> {
  const patch = validate(targetPatch, input);
  const current = await existing(id);
  const interval = patch.interval_seconds ?? current.interval_seconds;
  if ((patch.timeout_seconds ?? current.timeout_seconds) > interval)
    throw new ApiError(422, 'invalid', `timeout_seconds: may not exceed the interval (${interval} s)`, 'timeout_seconds');
  const { paused, ...fields } = patch;
  const db = await getDb();
  if (Object.keys(fields).length > 0) await updateTarget(db, id, fields);
  if (paused !== undefined) await setPaused(db, id, paused, actor.user.name);
  const after = await showTarget(id);
  const action = paused === undefined || paused === current.paused ? 'target.update' : paused ? 'target.pause' : 'target.resume';
  await recordAudit(actor, action, 'target', id, { before: targetView(current), after: { ...after, heartbeat: null } });
  return after;
}

/** Removes a target with its heartbeats and events, audited as `target.remove`. @throws ApiError 404 */
export async function removeTarget(actor: Actor, id: number): Promise<TargetView> {
  const removed = await removeTargetById(await getDb(), id);
  if (!removed) notFound('target', id);
  const view = targetView(removed);
  await recordAudit(actor, 'target.remove', 'target', id, { before: view });
  return view;
}

/** A test scrape of a URL not added yet ({@link scrapeTest}): what the scraper would record, nothing written. @throws ApiError 422 */
export async function scrapeUrl(input: unknown): Promise<ScrapeTestView> {
  const t = validate(scrapeTest, input);
  return testScrape(t.url, { token: t.token, timeoutSeconds: t.timeout_seconds });
}

/** A test scrape of a target now, with its URL, token and timeout; nothing written. @throws ApiError 404 */
export async function scrapeTargetNow(id: number): Promise<ScrapeTestView> {
  const t = await existing(id);
  return testScrape(t.url, { token: t.token, timeoutSeconds: t.timeout_seconds });
}
