import { json } from '@sveltejs/kit';
import { getTarget } from '@vigil/db';
import { ApiError, api, idOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { testScrape } from '$lib/server/scrape';
import type { RequestHandler } from './$types';

/** A test scrape of a target now, with its URL, token and timeout: what the scraper would record, nothing written. */
export const POST: RequestHandler = api(async ({ params }) => {
  const id = idOf(params.id);
  const t = await getTarget(await getDb(), id);
  if (!t) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  return json(await testScrape(t.url, { token: t.token, timeoutSeconds: t.timeout_seconds }));
});
