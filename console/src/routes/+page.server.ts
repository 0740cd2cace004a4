import { getDb } from '$lib/server/db';
import { loadFleet } from '$lib/server/fleet';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async () => {
  return { rows: await loadFleet(await getDb()), serverTime: Date.now() };
};
