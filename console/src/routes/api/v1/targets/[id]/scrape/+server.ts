import { json } from '@sveltejs/kit';
import { api, idOf } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import { scrapeTargetNow } from '$lib/server/targets';
import type { RequestHandler } from './$types';

/** A test scrape of a target now, with its URL, token and timeout: what the scraper would record, nothing written. */
export const POST: RequestHandler = api(async ({ params }) => json(await scrapeTargetNow(idOf(params.id))));

export const _spec = routeSpec({ POST: { summary: 'A test scrape of the target now: what the scraper would record, nothing written' } });
