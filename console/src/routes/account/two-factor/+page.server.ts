import { fail, redirect } from '@sveltejs/kit';
import { type Account, beginTotpSetup, confirmTotpSetup, disableTotp, replaceRecoveryCodes, totpState, writeAudit } from '@vigil/db';
import { clientAddress } from '$lib/server/auth';
import { getDb } from '$lib/server/db';
import { checkSecondFactor, matchTotp, newRecoveryCodes, newTotpSecret, requiredRoles, totpEnrolment } from '$lib/server/two-factor';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/** Who sets up their two factors: the signed-in user, or one whose role needs them and who has none yet (and may reach nothing else). */
function userOf(event: Pick<RequestEvent, 'locals'>): Account {
  const user = event.locals.principal?.user ?? (event.locals.pending?.stage === 'enrol' ? event.locals.pending.user : null);
  if (!user) redirect(303, '/login?next=/account/two-factor');
  return user;
}

export const load: PageServerLoad = async (event) => {
  const user = userOf(event);
  const db = await getDb();
  const state = await totpState(db, user.id);
  const required = (await requiredRoles(db)).includes(user.role);
  return {
    name: user.name,
    enabled: state.secret !== null,
    enabledAt: state.enabledAt?.toISOString() ?? null,
    recoveryCodesLeft: state.recoveryCodesLeft,
    required,
    mustEnrol: event.locals.pending?.stage === 'enrol',
  };
};

async function audit(event: RequestEvent, user: Account, action: string) {
  await writeAudit(await getDb(), { user, action, objectType: 'user', objectId: user.id, clientAddress: clientAddress(event) });
}

export const actions: Actions = {
  /** A new secret, shown as a QR code and as text, kept as being set up until a code from it confirms it. */
  begin: async (event) => {
    const user = userOf(event);
    const secret = newTotpSecret();
    await beginTotpSetup(await getDb(), user.id, secret);
    const { qrSvg } = await totpEnrolment(secret, user.name);
    return { action: 'begin', secret, qrSvg };
  },
  /** A code from the new secret turns two factors on; ten recovery codes are shown this once. */
  confirm: async (event) => {
    const user = userOf(event);
    const db = await getDb();
    const code = String((await event.request.formData()).get('code') ?? '');
    const pending = (await totpState(db, user.id)).pendingSecret;
    if (!pending) return fail(400, { action: 'confirm', message: 'Start again: no setup is under way.' });
    const step = matchTotp(pending, code);
    if (step === null) {
      const { qrSvg } = await totpEnrolment(pending, user.name);
      return fail(400, {
        action: 'begin',
        secret: pending,
        qrSvg,
        message: 'Wrong code. Check the time on your phone, and type the code it shows now.',
      });
    }
    const codes = newRecoveryCodes();
    if (!(await confirmTotpSetup(db, user.id, step, codes)))
      return fail(400, { action: 'confirm', message: 'Start again: no setup is under way.' });
    await audit(event, user, 'user.two_factor_on');
    return { action: 'confirm', recoveryCodes: codes };
  },
  /** New recovery codes (the old ones stop working), after a current code. */
  codes: async (event) => {
    const user = userOf(event);
    const db = await getDb();
    const outcome = await checkSecondFactor(db, user, String((await event.request.formData()).get('code') ?? ''), clientAddress(event));
    if (!outcome.ok) return fail(outcome.status, { action: 'codes', message: outcome.message });
    const codes = newRecoveryCodes();
    await replaceRecoveryCodes(db, user.id, codes);
    await audit(event, user, 'user.recovery_codes_replaced');
    return { action: 'codes', recoveryCodes: codes };
  },
  /** Turns two factors off, after a current code; refused where the role needs them (an admin can reset them). */
  disable: async (event) => {
    const user = userOf(event);
    const db = await getDb();
    if ((await requiredRoles(db)).includes(user.role))
      return fail(403, {
        action: 'disable',
        message: `The ${user.role} role must sign in with two factors. An admin can reset yours if you lost your phone.`,
      });
    const outcome = await checkSecondFactor(db, user, String((await event.request.formData()).get('code') ?? ''), clientAddress(event));
    if (!outcome.ok) return fail(outcome.status, { action: 'disable', message: outcome.message });
    await disableTotp(db, user.id);
    await audit(event, user, 'user.two_factor_off');
    return { action: 'disable', disabled: true };
  },
};
