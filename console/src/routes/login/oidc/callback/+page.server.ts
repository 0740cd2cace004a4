import { error, redirect } from '@sveltejs/kit';
import { clientAddress } from '$lib/server/auth';
import { consoleConfig } from '$lib/server/config';
import { getDb } from '$lib/server/db';
import { safeNext } from '$lib/server/login';
import { finishOidc } from '$lib/server/oidc';
import type { PageServerLoad } from './$types';

/** Where the OpenID provider sends the browser back: signed in and on to where it was going, or a page saying why not. */
export const load: PageServerLoad = async (event) => {
  const o = consoleConfig().oidc;
  if (!o) error(404, 'Sign-in through an OpenID provider is not set up here (VIGIL_OIDC_ISSUER).');
  const outcome = await finishOidc(await getDb(), o, event.cookies, event.url, {
    clientAddress: clientAddress(event),
    userAgent: event.request.headers.get('user-agent'),
  });
  if (!outcome.ok) error(outcome.status, outcome.message);
  redirect(303, safeNext(outcome.next));
};
