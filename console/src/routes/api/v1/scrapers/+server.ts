import { json } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import { scraperViews } from '$lib/server/scrapers';
import type { RequestHandler } from './$types';

/** The scraper replicas, live ones first, with when each was last seen and how many targets it owns. */
export const GET: RequestHandler = api(async () => json({ items: await scraperViews(await getDb()) }));

export const _spec = routeSpec({ GET: { summary: 'The scraper replicas, live first, with the targets each owns' } });
