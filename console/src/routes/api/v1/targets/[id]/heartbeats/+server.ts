import { json } from '@sveltejs/kit';
import { figureSeries, getTarget, heartbeatsBetween } from '@vigil/db';
import type { HeartbeatsResponse, SeriesResponse } from '$lib/api';
import { ApiError, api, idOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { heartbeatView } from '$lib/server/views';
import type { RequestHandler } from './$types';

const DAY = 86_400;
/** Longest range of raw heartbeats, or of buckets under an hour, seconds. */
const MAX_RAW_RANGE = 31 * DAY;
/** Longest range of hourly buckets (a year of rollups, and a little). */
const MAX_HOURLY_RANGE = 400 * DAY;
/** Most buckets one answer holds. */
const MAX_BUCKETS = 20_000;

function timeParam(url: URL, name: string, dflt: Date): Date {
  const v = url.searchParams.get(name);
  if (v === null) return dflt;
  const d = /^\d{9,11}(\.\d+)?$/.test(v) ? new Date(Number(v) * 1000) : new Date(v);
  if (Number.isNaN(d.getTime())) throw new ApiError(400, 'bad_request', `${name} must be an ISO 8601 time or Unix seconds`);
  return d;
}

/**
 * A target's heartbeats from `from` to `to` (ISO 8601 or Unix seconds; default
 * the last hour). Without `step`: each heartbeat, oldest first (up to 31 days).
 * With `step` (seconds): min/avg/max per bucket in columns, read from
 * heartbeats for steps under an hour (up to 31 days) and from the hourly
 * rollups for whole hours (up to 400 days).
 */
export const GET: RequestHandler = api(async ({ params, url }) => {
  const id = idOf(params.id);
  const to = timeParam(url, 'to', new Date());
  const from = timeParam(url, 'from', new Date(to.getTime() - 3_600_000));
  if (from > to) throw new ApiError(400, 'bad_request', 'from must be before to');
  const rangeSeconds = (to.getTime() - from.getTime()) / 1000;
  const stepParam = url.searchParams.get('step');
  let step: number | null = null;
  if (stepParam !== null) {
    step = /^\d{1,7}$/.test(stepParam) ? Number(stepParam) : Number.NaN;
    if (!(step >= 1)) throw new ApiError(400, 'bad_request', 'step must be a whole number of seconds, at least 1');
  }
  const hourly = step !== null && step % 3600 === 0;
  const max = hourly ? MAX_HOURLY_RANGE : MAX_RAW_RANGE;
  if (rangeSeconds > max)
    throw new ApiError(
      400,
      'bad_request',
      `the range may be at most ${max / DAY} days${hourly ? '' : '; for longer ones give a step of whole hours (step=3600), read from hourly rollups'}`,
    );
  if (step !== null && rangeSeconds / step > MAX_BUCKETS)
    throw new ApiError(400, 'bad_request', `that is over ${MAX_BUCKETS} buckets; give a longer step or a shorter range`);
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
