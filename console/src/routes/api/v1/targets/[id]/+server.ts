import { json } from '@sveltejs/kit';
import { targetPatch } from '@vigil/core/target-schema';
import { actorOf } from '$lib/server/actor';
import { api, idOf, jsonBody } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import { changeTarget, removeTarget, showTarget } from '$lib/server/targets';
import type { RequestHandler } from './$types';

/** One target with its newest heartbeat. */
export const GET: RequestHandler = api(async ({ params }) => json(await showTarget(idOf(params.id))));

/**
 * Changes `url`, `interval_seconds`, `timeout_seconds`, `labels`, `token`,
 * `pty_url` or `paused` (pause and resume are events too). The timeout may not
 * exceed the interval, old or new. Audited with before and after.
 */
export const PATCH: RequestHandler = api(async (event) => {
  const id = idOf(event.params.id);
  return json(await changeTarget(actorOf(event), id, await jsonBody(event)));
});

/** Removes a target with its heartbeats and events → 204. */
export const DELETE: RequestHandler = api(async (event) => {
  await removeTarget(actorOf(event), idOf(event.params.id));
  return new Response(null, { status: 204 });
});

export const _spec = routeSpec({
  GET: { summary: 'One target' },
  PATCH: { summary: 'Changes a target', body: targetPatch },
  DELETE: { summary: 'Removes a target with its heartbeats and events', status: 204 },
});
