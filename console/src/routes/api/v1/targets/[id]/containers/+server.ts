import { api, rangeQuery } from '$lib/server/api';
import { namedSeriesResponse } from '$lib/server/named-series';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/**
 * Each container's figures over time: `series.<name>` = [cpu % of one core[],
 * memory working set bytes[], receive bytes/s[], transmit bytes/s[]], aligned
 * with `series.time`, from `from` to `to` in buckets of `step` seconds.
 */
export const GET: RequestHandler = api(({ params, url }) => namedSeriesResponse('containers', params.id, url));

export const _spec = routeSpec({
  GET: { summary: "Each container's cpu %, memory bytes, receive and transmit bytes/s over time", query: rangeQuery },
});
