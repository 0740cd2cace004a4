import { fail, redirect } from '@sveltejs/kit';
import { completeSecondFactor, writeAudit } from '@vigil/db';
import { clientAddress, SESSION_COOKIE } from '$lib/server/auth';
import { getDb } from '$lib/server/db';
import { log } from '$lib/server/log';
import { safeNext } from '$lib/server/login';
import { checkSecondFactor } from '$lib/server/two-factor';
import type { Actions, PageServerLoad } from './$types';

/** The second step of a sign-in: only a session whose password was right and whose code is to come gets here. */
export const load: PageServerLoad = async ({ locals, url }) => {
  if (locals.principal) redirect(303, safeNext(url.searchParams.get('next')));
  if (locals.pending?.stage !== 'verify') redirect(303, '/login');
  return { name: locals.pending.user.name, next: safeNext(url.searchParams.get('next')) };
};

export const actions: Actions = {
  /** A TOTP code (good once) or a recovery code (used up); wrong ones are throttled with the passwords. */
  default: async (event) => {
    const pending = event.locals.pending;
    if (pending?.stage !== 'verify') redirect(303, '/login');
    const form = await event.request.formData();
    const db = await getDb();
    const outcome = await checkSecondFactor(db, pending.user, String(form.get('code') ?? ''), clientAddress(event));
    if (!outcome.ok) return fail(outcome.status, { message: outcome.message });
    const token = event.cookies.get(SESSION_COOKIE);
    if (!token || !(await completeSecondFactor(db, token))) redirect(303, '/login');
    if (outcome.recovery)
      await writeAudit(db, {
        user: pending.user,
        action: 'user.recovery_code_used',
        objectType: 'user',
        objectId: pending.user.id,
        clientAddress: clientAddress(event),
      });
    log().info({ user: pending.user.name, address: clientAddress(event) }, 'signed in with two factors');
    redirect(303, safeNext(String(form.get('next') ?? '/')));
  },
};
