import { getDb } from '$lib/server/db';
import { loadFleet } from '$lib/server/fleet';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async () => {
  const fleet = await loadFleet(await getDb());
  return { ...fleet, serverTime: Date.now() };
};
