import { json } from '@sveltejs/kit';
import { api, idOf } from '$lib/server/api';
import { scrapeTargetNow } from '$lib/server/targets';
import type { RequestHandler } from './$types';

/** A test scrape of a target now, with its URL, token and timeout: what the scraper would record, nothing written. */
export const POST: RequestHandler = api(async ({ params }) => json(await scrapeTargetNow(idOf(params.id))));
