import { listEvents } from '@vigil/db';
import { getDb } from '$lib/server/db';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ events: await listEvents(await getDb(), { limit: 200 }), serverTime: Date.now() });
