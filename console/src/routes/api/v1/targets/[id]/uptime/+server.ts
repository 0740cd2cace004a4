import { json } from '@sveltejs/kit';
import { getTarget } from '@vigil/db';
import type { TargetUptimeResponse } from '$lib/api';
import { ApiError, api, idOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import { probeUptime, targetUptime } from '$lib/server/uptime';
import type { RequestHandler } from './$types';

/**
 * A target's availability over 24 h, 7 d, 30 d and 90 d, and per day for 90
 * days, from its state events; and each probed service's (`probes`), from its
 * results.
 */
export const GET: RequestHandler = api(async ({ params }) => {
  const id = idOf(params.id);
  const db = await getDb();
  const target = await getTarget(db, id);
  if (!target) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  const now = Date.now();
  const [host, probes] = await Promise.all([targetUptime(db, target, now), probeUptime(db, id, now)]);
  const body: TargetUptimeResponse = { ...host, probes };
  return json(body);
});

export const _spec = routeSpec({ GET: { summary: "The host's availability over 24 h, 7, 30 and 90 days and per day, and each probe's" } });
