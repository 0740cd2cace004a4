import { api, rangeQuery } from '$lib/server/api';
import { namedSeriesResponse } from '$lib/server/named-series';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/**
 * Each host network interface's receive and transmit rates, bytes per second
 * (`series.<device>` = [rx[], tx[]], aligned with `series.time`), from `from`
 * to `to` in buckets of `step` seconds. Loopback, veths and bridges are left out.
 */
export const GET: RequestHandler = api(({ params, url }) => namedSeriesResponse('interfaces', params.id, url));

export const _spec = routeSpec({
  GET: { summary: "Each host network interface's receive and transmit bytes/s over time", query: rangeQuery },
});
