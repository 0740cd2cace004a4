import { json } from '@sveltejs/kit';
import { figureSeries, getTarget, heartbeatsBetween } from '@vigil/db';
import type { HeartbeatsResponse, SeriesResponse } from '$lib/api';
import { ApiError, api, idOf, rangeOf, rangeQuery } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import { heartbeatView } from '$lib/server/views';
import type { RequestHandler } from './$types';

/**
 * A target's heartbeats from `from` to `to` (ISO 8601 or Unix seconds; default
 * the last hour). Without `step`: each heartbeat, oldest first (up to 31 days).
 * With `step` (seconds): min/avg/max per bucket in columns, read from
 * heartbeats for steps under an hour (up to 31 days) and from the hourly
 * rollups for whole hours (up to 400 days).
 */
export const GET: RequestHandler = api(async ({ params, url }) => {
  const id = idOf(params.id);
  const { from, to, step } = rangeOf(url);
  const db = await getDb();
  if (!(await getTarget(db, id))) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  if (step !== null) {
    const body: SeriesResponse = { from: from.toISOString(), to: to.toISOString(), series: await figureSeries(db, id, from, to, step) };
    return json(body);
  }
  const rows = await heartbeatsBetween(db, id, from, to);
  const body: HeartbeatsResponse = { from: from.toISOString(), to: to.toISOString(), items: rows.map(heartbeatView) };
  return json(body);
});

export const _spec = routeSpec({
  GET: {
    summary: "A target's heartbeats, or with `step` its figures in buckets (min/avg/max in columns)",
    query: rangeQuery,
  },
});
