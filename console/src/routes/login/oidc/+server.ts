import { error, redirect } from '@sveltejs/kit';
import { consoleConfig } from '$lib/server/config';
import { safeNext } from '$lib/server/login';
import { beginOidc } from '$lib/server/oidc';
import type { RequestHandler } from './$types';

/** Leaves for the OpenID provider (the sign-in page's "Sign in with …"); 404 when none is configured. */
export const GET: RequestHandler = async ({ cookies, url }) => {
  const o = consoleConfig().oidc;
  if (!o) error(404, 'Sign-in through an OpenID provider is not set up here (VIGIL_OIDC_ISSUER).');
  let to: URL;
  try {
    to = await beginOidc(o, cookies, safeNext(url.searchParams.get('next')));
  } catch (err) {
    error(502, `${o.name} cannot be reached: ${(err as Error).message.slice(0, 300)}. Sign in with a password, or try again later.`);
  }
  redirect(303, to.href);
};
