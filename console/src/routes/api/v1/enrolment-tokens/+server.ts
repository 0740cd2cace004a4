import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { api, jsonBody } from '$lib/server/api';
import { listEnrolmentTokenViews, makeEnrolmentToken, newEnrolmentToken } from '$lib/server/enrolment';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Every enrolment token, newest first, with its uses left; never the token. */
export const GET: RequestHandler = api(async () => json({ items: await listEnrolmentTokenViews() }));

/** Makes an enrolment token: `{name, labels?, require_approval?, max_uses?, expires_at?}` → 201 with `token`, shown this once. */
export const POST: RequestHandler = api(async (event) =>
  json(await makeEnrolmentToken(actorOf(event), await jsonBody(event)), { status: 201, headers: { 'cache-control': 'no-store' } }),
);

export const _spec = routeSpec({
  GET: { summary: 'Enrolment tokens, with their uses left (never the token)' },
  POST: { summary: 'Makes an enrolment token, shown once in `token`', body: newEnrolmentToken, status: 201 },
});
