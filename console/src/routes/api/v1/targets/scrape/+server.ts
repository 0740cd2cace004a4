import { json } from '@sveltejs/kit';
import { scrapeTest } from '@vigil/core/target-schema';
import { api, jsonBody } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import { scrapeUrl } from '$lib/server/targets';
import type { RequestHandler } from './$types';

/** A test scrape of a URL before it is added (`{url, token?, timeout_seconds?}`): what the scraper would record, nothing written. */
export const POST: RequestHandler = api(async (event) => json(await scrapeUrl(await jsonBody(event))));

export const _spec = routeSpec({
  POST: { summary: 'A test scrape of a URL: what the scraper would record, nothing written', body: scrapeTest },
});
