import { json } from '@sveltejs/kit';
import { getTarget, type NamedKind, namedSeries } from '@vigil/db';
import type { NamedSeriesResponse } from '$lib/api';
import { ApiError, idOf, rangeOf } from './api';
import { getDb } from './db';

/** The step when none is given: the shortest of these with at most 500 buckets in the range. */
const DEFAULT_STEPS = [15, 60, 300, 900, 3_600, 3 * 3_600, 86_400];

/** Most names one answer holds (interfaces or containers, by name). */
const MAX_NAMES = 100;

/**
 * A target's per-interface or per-container figures over `from`…`to` in
 * buckets of `step` (see rangeOf; without a step, the shortest of 15 s, 1 min,
 * 5 min, 15 min, 1 h, 3 h, 1 d giving at most 500 buckets).
 * @throws ApiError 400 for a bad range, 404 for no such target
 */
export async function namedSeriesResponse(kind: NamedKind, rawId: string, url: URL): Promise<Response> {
  const id = idOf(rawId);
  const { from, to, step: given } = rangeOf(url);
  const range = (to.getTime() - from.getTime()) / 1000;
  const step = given ?? DEFAULT_STEPS.find((s) => range / s <= 500) ?? DEFAULT_STEPS.at(-1)!;
  const db = await getDb();
  if (!(await getTarget(db, id))) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  const body: NamedSeriesResponse = {
    from: from.toISOString(),
    to: to.toISOString(),
    series: await namedSeries(db, kind, id, from, to, step, MAX_NAMES),
  };
  return json(body);
}
