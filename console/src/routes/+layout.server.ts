import { getDb } from '$lib/server/db';
import { liveScrapers } from '$lib/server/scrapers';
import type { LayoutServerLoad } from './$types';

/**
 * The signed-in user's name and role, for the header (null on the sign-in
 * page), and how many scraper replicas are live (null when it cannot be read:
 * the page says nothing rather than something wrong).
 */
export const load: LayoutServerLoad = async ({ locals }) => {
  const user = locals.principal?.user;
  if (!user) return { user: null, scrapers: null };
  const scrapers = await liveScrapers(await getDb()).catch(() => null);
  return { user: { name: user.name, role: user.role }, scrapers };
};
