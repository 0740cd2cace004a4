import { json } from '@sveltejs/kit';
import { getTarget, queryEvents } from '@vigil/db';
import * as z from 'zod/mini';
import type { EventView, Page } from '$lib/api';
import { ApiError, api, idOf, pageOf, pageQuery } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { eventView } from '$lib/server/events';
import { queryOf, routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

const targetEventsQuery = z.extend(pageQuery, { type: z.optional(z.string()) });

/** One target's events, newest first: `?type=`, `page`, `per_page`. */
export const GET: RequestHandler = api(async ({ params, url }) => {
  const id = idOf(params.id);
  queryOf(url, targetEventsQuery);
  const { page, perPage } = pageOf(url);
  const db = await getDb();
  if (!(await getTarget(db, id))) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  const type = url.searchParams.get('type')?.slice(0, 40) || undefined;
  const { items, total } = await queryEvents(db, { targetId: id, type, page, perPage });
  return json({ items: items.map(eventView), total, page, per_page: perPage } satisfies Page<EventView>);
});

export const _spec = routeSpec({ GET: { summary: "One target's events, newest first", query: targetEventsQuery } });
