import { json } from '@sveltejs/kit';
import { api, jsonBody } from '$lib/server/api';
import { clientAddress } from '$lib/server/auth';
import { deregister, enrol } from '$lib/server/enrolment';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/**
 * A host's exporter enrols itself: `Authorization: Bearer <jws>` (a request
 * signed with the host's key) and `{enrolment_token?}` (needed the first time
 * only) → its target id, name and scrape credential (201 when created, 200 when
 * its key was known). Public: the signature and the token are the proof.
 */
export const POST: RequestHandler = api(async (event) => {
  const body = event.request.headers.get('content-length') === '0' ? {} : await jsonBody(event);
  const r = await enrol(event.request.headers.get('authorization'), body, clientAddress(event));
  return json(r, { status: r.created ? 201 : 200, headers: { 'cache-control': 'no-store' } });
});

/** A host leaves: a `deregister` message signed with its key removes its target → 204. */
export const DELETE: RequestHandler = api(async (event) => {
  await deregister(event.request.headers.get('authorization'), clientAddress(event));
  return new Response(null, { status: 204 });
});

export const _spec = routeSpec({
  POST: { summary: "A host's exporter enrols itself with a signed request (and an enrolment token the first time)", status: 201 },
  DELETE: { summary: 'A host leaves, with a request signed by its key', status: 204 },
});
