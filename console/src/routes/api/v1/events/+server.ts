import { json } from '@sveltejs/kit';
import { queryEvents } from '@vigil/db';
import * as z from 'zod/mini';
import type { EventView, Page } from '$lib/api';
import { api, idOf, pageOf, pageQuery } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { eventView } from '$lib/server/events';
import { queryOf, routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

const eventsQuery = z.extend(pageQuery, { target: z.optional(z.string()), type: z.optional(z.string()) });

/** Every target's events, newest first: `?target=<id>`, `?type=`, `page`, `per_page`. */
export const GET: RequestHandler = api(async ({ url }) => {
  queryOf(url, eventsQuery);
  const { page, perPage } = pageOf(url);
  const target = url.searchParams.get('target');
  const type = url.searchParams.get('type')?.slice(0, 40) || undefined;
  const { items, total } = await queryEvents(await getDb(), { targetId: target ? idOf(target) : undefined, type, page, perPage });
  return json({ items: items.map(eventView), total, page, per_page: perPage } satisfies Page<EventView>);
});

export const _spec = routeSpec({ GET: { summary: "Every target's events, newest first", query: eventsQuery } });
