import { fail, redirect } from '@sveltejs/kit';
import { clientAddress } from '$lib/server/auth';
import { consoleConfig } from '$lib/server/config';
import { getDb } from '$lib/server/db';
import { safeNext, signIn } from '$lib/server/login';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  if (locals.principal) redirect(303, safeNext(url.searchParams.get('next')));
  const oidc = consoleConfig().oidc;
  return { next: safeNext(url.searchParams.get('next')), oidc: oidc && { name: oidc.name, mapped: oidc.roles.length > 0 } };
};

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const name = String(form.get('name') ?? '');
    const outcome = await signIn(
      await getDb(),
      event.cookies,
      { name, password: String(form.get('password') ?? '') },
      { clientAddress: clientAddress(event), userAgent: event.request.headers.get('user-agent') },
    );
    if (!outcome.ok) return fail(outcome.status, { name, message: outcome.message });
    const next = safeNext(String(form.get('next') ?? '/'));
    if (outcome.secondFactor) redirect(303, `/login/two-factor${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`);
    redirect(303, next);
  },
};
