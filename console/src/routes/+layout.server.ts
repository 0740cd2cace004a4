import { getDb } from '$lib/server/db';
import { liveScrapers } from '$lib/server/scrapers';
import { THEME_COOKIE, themeOf } from '$lib/theme';
import type { LayoutServerLoad } from './$types';

/**
 * The signed-in user's name and role, for the header (null on the sign-in
 * page), how many scraper replicas are live (null when it cannot be read:
 * the page says nothing rather than something wrong), and the colour theme chosen.
 */
export const load: LayoutServerLoad = async ({ locals, cookies }) => {
  const theme = themeOf(cookies.get(THEME_COOKIE));
  const user = locals.principal?.user;
  if (!user) return { user: null, scrapers: null, theme };
  const scrapers = await liveScrapers(await getDb()).catch(() => null);
  return { user: { name: user.name, role: user.role }, scrapers, theme };
};
