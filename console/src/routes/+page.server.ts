import { fleetTrends } from '@vigil/db';
import { getDb } from '$lib/server/db';
import { loadFleet } from '$lib/server/fleet';
import type { PageServerLoad } from './$types';

/** The fleet, and each host's cpu and memory over the last hour (12 buckets of 5 min) for the table's sparklines; trends again each minute. */
export const load: PageServerLoad = async ({ depends }) => {
  depends('vigil:trends');
  const db = await getDb();
  const [rows, trends] = await Promise.all([loadFleet(db), fleetTrends(db)]);
  return { rows, trends: Object.fromEntries(trends), serverTime: Date.now() };
};
