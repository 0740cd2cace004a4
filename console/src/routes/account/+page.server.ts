import { createApiKey, listApiKeys, revokeApiKey, setPassword, verifyLogin } from '@vigil/db';
import { apiKeyView } from '$lib/server/accounts';
import { ApiError, audit, principalOf } from '$lib/server/api';
import { clientAddress } from '$lib/server/auth';
import { getDb } from '$lib/server/db';
import { formAction, formFields } from '$lib/server/forms';
import { signIn } from '$lib/server/login';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { user } = principalOf(event);
  return { keys: (await listApiKeys(await getDb(), { userId: user.id })).map(apiKeyView) };
};

export const actions: Actions = {
  /** Changes one's own password (the current one first); every session ends, and this browser signs in again with the new one. */
  password: (event) =>
    formAction('password', async () => {
      const f = await formFields(event);
      const { user } = principalOf(event);
      const db = await getDb();
      if (!(await verifyLogin(db, user.name, f.current ?? '')))
        throw new ApiError(422, 'invalid', 'the current password is wrong', 'current');
      if ((f.password ?? '') !== (f.confirm ?? '')) throw new ApiError(422, 'invalid', 'the two new passwords differ', 'confirm');
      await setPassword(db, user.name, f.password ?? '');
      await audit(event, 'user.change_password', 'user', user.id);
      await signIn(
        db,
        event.cookies,
        { name: user.name, password: f.password ?? '' },
        {
          clientAddress: clientAddress(event),
          userAgent: event.request.headers.get('user-agent'),
        },
      );
      return { action: 'password', changed: true };
    }),
  /** Makes an API key of one's own, shown this once. */
  create: (event) =>
    formAction('create', async () => {
      const f = await formFields(event);
      const { user } = principalOf(event);
      const days = f.expires_days ? Number(f.expires_days) : null;
      if (days !== null && !(Number.isInteger(days) && days >= 1 && days <= 3650))
        throw new ApiError(422, 'invalid', 'expiry: a whole number of days from 1 to 3650, or empty for none', 'expires_days');
      const { key, info } = await createApiKey(
        await getDb(),
        user.id,
        f.name ?? '',
        days === null ? null : new Date(Date.now() + days * 86_400_000),
      );
      await audit(event, 'api_key.create', 'api_key', info.id, { after: apiKeyView(info) });
      return { action: 'create', key, name: info.name };
    }),
  revoke: (event) =>
    formAction('revoke', async () => {
      const { user } = principalOf(event);
      const id = Number((await formFields(event)).id);
      const r = await revokeApiKey(await getDb(), id, user.id);
      if (!r) throw new ApiError(404, 'not_found', 'no such key of yours');
      await audit(event, 'api_key.revoke', 'api_key', id, { before: apiKeyView(r.before), after: apiKeyView(r.after) });
      return { action: 'revoke', revoked: r.after.name };
    }),
};
