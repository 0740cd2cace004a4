import { setPassword, totpEnabled, verifyLogin } from '@vigil/db';
import { actorOf, recordAudit } from '$lib/server/actor';
import { listApiKeyViews, makeApiKey, revokeKey } from '$lib/server/api-keys';
import { getDb } from '$lib/server/db';
import { ApiError } from '$lib/server/errors';
import { formAction, formFields } from '$lib/server/forms';
import { signIn } from '$lib/server/login';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const actor = actorOf(event);
  const [keys, on] = await Promise.all([listApiKeyViews(actor), totpEnabled(await getDb(), [actor.user.id])]);
  return { keys, twoFactor: on.has(actor.user.id) };
};

export const actions: Actions = {
  /** Changes one's own password (the current one first); every session ends, and this browser signs in again with the new one. */
  password: (event) =>
    formAction('password', async () => {
      const f = await formFields(event);
      const actor = actorOf(event);
      const db = await getDb();
      if (!(await verifyLogin(db, actor.user.name, f.current ?? '')))
        throw new ApiError(422, 'invalid', 'the current password is wrong', 'current');
      if ((f.password ?? '') !== (f.confirm ?? '')) throw new ApiError(422, 'invalid', 'the two new passwords differ', 'confirm');
      await setPassword(db, actor.user.name, f.password ?? '');
      await recordAudit(actor, 'user.change_password', 'user', actor.user.id);
      await signIn(
        db,
        event.cookies,
        { name: actor.user.name, password: f.password ?? '' },
        { clientAddress: actor.clientAddress, userAgent: event.request.headers.get('user-agent') },
        true, // this session gave its second factor already
      );
      return { action: 'password', changed: true };
    }),
  /** Makes an API key of one's own, shown this once. */
  create: (event) =>
    formAction('create', async () => {
      const f = await formFields(event);
      const days = f.expires_days ? Number(f.expires_days) : null;
      if (days !== null && !(Number.isInteger(days) && days >= 1 && days <= 3650))
        throw new ApiError(422, 'invalid', 'expiry: a whole number of days from 1 to 3650, or empty for none', 'expires_days');
      const expires = days === null ? null : new Date(Date.now() + days * 86_400_000).toISOString();
      const made = await makeApiKey(actorOf(event), { name: f.name ?? '', expires_at: expires });
      return { action: 'create', key: made.key, name: made.name };
    }),
  revoke: (event) =>
    formAction('revoke', async () => {
      const r = await revokeKey(actorOf(event), Number((await formFields(event)).id), { ownOnly: true });
      return { action: 'revoke', revoked: r.name };
    }),
};
