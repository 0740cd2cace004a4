import { getDb } from '$lib/server/db';
import { loadEvents } from '$lib/server/fleet';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ events: await loadEvents(await getDb()), serverTime: Date.now() });
