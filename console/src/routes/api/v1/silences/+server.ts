import { json } from '@sveltejs/kit';
import * as z from 'zod/mini';
import { actorOf } from '$lib/server/actor';
import { createSilence, listSilenceViews, newSilence } from '$lib/server/alerts';
import { api, jsonBody } from '$lib/server/api';
import { queryOf, routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

const query = z.object({ all: z.optional(z.enum(['true', 'false'])) });

/** Silences and maintenance windows not yet over (`?all=true`: every one), newest first. */
export const GET: RequestHandler = api(async ({ url }) => json({ items: await listSilenceViews(queryOf(url, query).all === 'true') }));

/** Adds a silence, or with `schedule` and `window_seconds` a recurring maintenance window → 201. */
export const POST: RequestHandler = api(async (event) => json(await createSilence(actorOf(event), await jsonBody(event)), { status: 201 }));

export const _spec = routeSpec({
  GET: { summary: 'Silences and maintenance windows', query },
  POST: { summary: 'Adds a silence or a maintenance window', body: newSilence, status: 201 },
});
