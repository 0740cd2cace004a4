import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, idOf } from '$lib/server/api';
import { revokeEnrolmentTokenById } from '$lib/server/enrolment';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Revokes an enrolment token: no host enrols with it any more; the hosts it enrolled stay. */
export const DELETE: RequestHandler = api(async (event) =>
  json(await revokeEnrolmentTokenById(actorOf(event), idOf(event.params.id, 'enrolment token'))),
);

export const _spec = routeSpec({ DELETE: { summary: 'Revokes an enrolment token (its hosts stay)' } });
