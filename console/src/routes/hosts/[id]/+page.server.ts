import { error } from '@sveltejs/kit';
import { getDb } from '$lib/server/db';
import { loadHost } from '$lib/server/fleet';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params }) => {
  const id = Number(params.id);
  // Ids are PostgreSQL integers: anything else names no host (and must not reach the query).
  if (!/^\d{1,10}$/.test(params.id) || !Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647)
    error(404, `No host with id ${params.id}`);
  const host = await loadHost(await getDb(), id);
  if (!host) error(404, `No host with id ${id}; it may have been removed`);
  return { ...host, serverTime: Date.now() };
};
