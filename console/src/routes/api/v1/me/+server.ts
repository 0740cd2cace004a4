import { json } from '@sveltejs/kit';
import type { MeView } from '$lib/api';
import { api, principalOf } from '$lib/server/api';
import type { RequestHandler } from './$types';

/** Who the request acts as. */
export const GET: RequestHandler = api(async (event) => {
  const { user, via } = principalOf(event);
  return json({ name: user.name, role: user.role, via } satisfies MeView);
});
