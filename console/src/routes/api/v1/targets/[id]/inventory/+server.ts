import { json } from '@sveltejs/kit';
import { getInventory, getTarget } from '@vigil/db';
import { ApiError, api, idOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import { inventoryView } from '$lib/server/views';
import type { RequestHandler } from './$types';

/** A target's containers and services as its latest scrape showed them (empty lists, null times: none seen). */
export const GET: RequestHandler = api(async ({ params }) => {
  const id = idOf(params.id);
  const db = await getDb();
  if (!(await getTarget(db, id))) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  return json(inventoryView(await getInventory(db, id)));
});

export const _spec = routeSpec({ GET: { summary: 'Its containers and services from its latest scrape' } });
