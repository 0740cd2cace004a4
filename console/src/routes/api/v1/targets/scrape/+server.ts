import { json } from '@sveltejs/kit';
import { api, body } from '$lib/server/api';
import { testScrape } from '$lib/server/scrape';
import { scrapeTest } from '$lib/server/targets';
import type { RequestHandler } from './$types';

/** A test scrape of a URL before it is added (`{url, token?, timeout_seconds?}`): what the scraper would record, nothing written. */
export const POST: RequestHandler = api(async (event) => {
  const input = await body(event, scrapeTest);
  return json(await testScrape(input.url, { token: input.token, timeoutSeconds: input.timeout_seconds }));
});
