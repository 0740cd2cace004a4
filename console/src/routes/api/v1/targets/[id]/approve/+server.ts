import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, idOf } from '$lib/server/api';
import { approveHost } from '$lib/server/enrolment';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Approves a host waiting for approval: it is scraped from now on (409 when it is not pending). */
export const POST: RequestHandler = api(async (event) => json(await approveHost(actorOf(event), idOf(event.params.id))));

export const _spec = routeSpec({ POST: { summary: 'Approves a pending host' } });
