import { json } from '@sveltejs/kit';
import { totpEnabled } from '@vigil/db';
import type { MeView } from '$lib/api';
import { api, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Who the request acts as, and whether they sign in with two factors. */
export const GET: RequestHandler = api(async (event) => {
  const { user, via } = principalOf(event);
  const twoFactor = (await totpEnabled(await getDb(), [user.id])).has(user.id);
  return json({ name: user.name, role: user.role, via, two_factor: twoFactor } satisfies MeView);
});

export const _spec = routeSpec({ GET: { summary: 'Who the request acts as, and whether they sign in with two factors' } });
