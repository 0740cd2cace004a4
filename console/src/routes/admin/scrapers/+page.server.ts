import { getDb } from '$lib/server/db';
import { scraperViews } from '$lib/server/scrapers';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ scrapers: await scraperViews(await getDb()), serverTime: Date.now() });
