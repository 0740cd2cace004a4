import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, idOf } from '$lib/server/api';
import { rejectHost } from '$lib/server/enrolment';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Rejects a host waiting for approval: its target is removed (409 when it is not pending). */
export const POST: RequestHandler = api(async (event) => json(await rejectHost(actorOf(event), idOf(event.params.id))));

export const _spec = routeSpec({ POST: { summary: 'Rejects a pending host (removes it)' } });
