import { error } from '@sveltejs/kit';
import { clientAddress } from '$lib/server/auth';
import { getDb } from '$lib/server/db';
import { allowStatusRead, publicStatusPage, STATUS_PAGE_MAX_AGE } from '$lib/server/status-pages';
import type { PageServerLoad } from './$types';

/** Rendered on the server only: no script, no second copy of the data for hydration. */
export const csr = false;

/**
 * A public status page: no session needed; states and availability only.
 * Cacheable for STATUS_PAGE_MAX_AGE seconds; limited per client address.
 */
export const load: PageServerLoad = async (event) => {
  if (!allowStatusRead(clientAddress(event) ?? 'unknown')) error(429, 'Too many requests; try again in a minute');
  const page = await publicStatusPage(await getDb(), event.params.slug.slice(0, 63));
  if (!page) error(404, 'No status page here');
  event.setHeaders({ 'cache-control': `public, max-age=${STATUS_PAGE_MAX_AGE}` });
  return { page };
};
