import { json } from '@sveltejs/kit';
import * as z from 'zod/mini';
import { actorOf } from '$lib/server/actor';
import { silenceAlert } from '$lib/server/alerts';
import { api, idOf, jsonBody } from '$lib/server/api';
import { validate } from '$lib/server/errors';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

const body = z.strictObject({
  duration_seconds: z.optional(z.number().check(z.int(), z.positive(), z.maximum(31_536_000))),
  comment: z.optional(z.string().check(z.maxLength(500))),
});

/** Silences this alert (its rule on its host, and its container or probe) for `duration_seconds` (default 2 h) → 201 the silence. */
export const POST: RequestHandler = api(async (event) => {
  const b = validate(body, await jsonBody(event));
  return json(await silenceAlert(actorOf(event), idOf(event.params.id, 'alert'), b.duration_seconds ?? 7200, b.comment), { status: 201 });
});

export const _spec = routeSpec({ POST: { summary: 'Silences one alert', body, status: 201 } });
