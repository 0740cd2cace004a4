import { json } from '@sveltejs/kit';
import { getTarget, latestHeartbeats, removeTargetById, setPaused, updateTarget } from '@vigil/db';
import { ApiError, api, audit, body, idOf, principalOf, targetView } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { targetPatch } from '$lib/server/targets';
import type { RequestHandler } from './$types';

async function found(id: number) {
  const db = await getDb();
  const t = await getTarget(db, id);
  if (!t) throw new ApiError(404, 'not_found', `no target with id ${id}; it may have been removed`);
  const [h] = await latestHeartbeats(db, undefined, { targetIds: [id] });
  return targetView(t, h ?? null);
}

/** One target with its newest heartbeat. */
export const GET: RequestHandler = api(async ({ params }) => json(await found(idOf(params.id))));

/**
 * Changes `url`, `interval_seconds`, `timeout_seconds`, `labels` or `paused`
 * (pause and resume are events too). The timeout may not exceed the interval,
 * old or new. Audited with before and after.
 */
export const PATCH: RequestHandler = api(async (event) => {
  const id = idOf(event.params.id);
  const patch = await body(event, targetPatch);
  const db = await getDb();
  const current = await getTarget(db, id);
  if (!current) throw new ApiError(404, 'not_found', `no target with id ${id}; it may have been removed`);
  const interval = patch.interval_seconds ?? current.interval_seconds;
  if ((patch.timeout_seconds ?? current.timeout_seconds) > interval)
    throw new ApiError(422, 'invalid', `timeout_seconds: may not exceed the interval (${interval} s)`, 'timeout_seconds');
  const { paused, ...fields } = patch;
  const before = targetView(current);
  if (Object.keys(fields).length > 0) await updateTarget(db, id, fields);
  if (paused !== undefined) await setPaused(db, id, paused, principalOf(event).user.name);
  const after = await found(id);
  const action = paused === undefined || paused === current.paused ? 'target.update' : paused ? 'target.pause' : 'target.resume';
  await audit(event, action, 'target', id, { before, after: { ...after, heartbeat: undefined } });
  return json(after);
});

/** Removes a target with its heartbeats and events → 204. */
export const DELETE: RequestHandler = api(async (event) => {
  const id = idOf(event.params.id);
  const removed = await removeTargetById(await getDb(), id);
  if (!removed) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  await audit(event, 'target.remove', 'target', id, { before: targetView(removed) });
  return new Response(null, { status: 204 });
});
