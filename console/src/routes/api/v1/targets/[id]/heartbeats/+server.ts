import { json } from '@sveltejs/kit';
import { getTarget, heartbeatsBetween } from '@vigil/db';
import { ApiError, api, heartbeatView, idOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/** Longest range served, seconds (raw heartbeats; hourly rollups will serve longer ones). */
const MAX_RANGE = 31 * 86_400;

function timeParam(url: URL, name: string, dflt: Date): Date {
  const v = url.searchParams.get(name);
  if (v === null) return dflt;
  const d = /^\d{9,11}(\.\d+)?$/.test(v) ? new Date(Number(v) * 1000) : new Date(v);
  if (Number.isNaN(d.getTime())) throw new ApiError(400, 'bad_request', `${name} must be an ISO 8601 time or Unix seconds`);
  return d;
}

/** A target's heartbeats from `from` to `to` (ISO 8601 or Unix seconds; default the last hour), oldest first. */
export const GET: RequestHandler = api(async ({ params, url }) => {
  const id = idOf(params.id);
  const to = timeParam(url, 'to', new Date());
  const from = timeParam(url, 'from', new Date(to.getTime() - 3_600_000));
  if (from > to) throw new ApiError(400, 'bad_request', 'from must be before to');
  if (to.getTime() - from.getTime() > MAX_RANGE * 1000) throw new ApiError(400, 'bad_request', 'the range may be at most 31 days');
  const db = await getDb();
  if (!(await getTarget(db, id))) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  const rows = await heartbeatsBetween(db, id, from, to);
  return json({ from: from.toISOString(), to: to.toISOString(), items: rows.map(heartbeatView) });
});
