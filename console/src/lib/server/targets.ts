/**
 * Targets: the use cases the API routes and
 * the admin page's actions both call — validate, write, audit, answer.
 */

import { newTarget, scrapeTest, targetPatch } from '@vigil/core/target-schema';
import {
  addTarget,
  getTarget,
  getTargetWithHeartbeat,
  listTargets,
  queryTargets,
  removeTargetById,
  setPaused,
  type Target,
  type TargetQuery,
  updateTarget,
} from '@vigil/db';
import type { Page, ScrapeTestView, TargetView } from '$lib/api';
import { type Actor, recordAudit } from './actor';
import { getDb } from './db';
import { ApiError, notFound, validate } from './errors';
import { testScrape } from './scrape';
import { targetView } from './views';

/** A page of targets, each with its newest heartbeat (the one target view; see queryTargets). */
export async function listTargetViews(query: TargetQuery & { page: number; perPage: number }): Promise<Page<TargetView>> {
  const { items, total } = await queryTargets(await getDb(), query);
  return { items: items.map((t) => targetView(t, t.heartbeat)), total, page: query.page, per_page: query.perPage };
}

/** Every target by name, without heartbeats (the admin page's list). */
export async function allTargetViews(): Promise<TargetView[]> {
  return (await listTargets(await getDb())).map((t) => targetView(t));
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
