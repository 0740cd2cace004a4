import { actorOf, recordAudit } from '$lib/server/actor';
import { getDb } from '$lib/server/db';
import { ApiError } from '$lib/server/errors';
import { formAction, formFields } from '$lib/server/forms';
import { requiredRoles, setRequiredRoles } from '$lib/server/two-factor';
import { addUser, changeUser, deleteUser, listUserViews } from '$lib/server/users';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ users: await listUserViews(), requiredRoles: await requiredRoles(await getDb()) });

export const actions: Actions = {
  create: (event) =>
    formAction('create', async () => {
      const f = await formFields(event);
      if ((f.password ?? '') !== (f.confirm ?? '')) throw new ApiError(422, 'invalid', 'the two passwords differ', 'confirm');
      const u = await addUser(actorOf(event), { name: f.name?.trim() ?? '', role: f.role ?? '', password: f.password ?? '' });
      return { action: 'create', created: u.name };
    }),
  role: (event) =>
    formAction('role', async () => {
      const f = await formFields(event);
      const u = await changeUser(actorOf(event), f.name ?? '', { role: f.role ?? '' });
      return { action: 'role', changed: u.name };
    }),
  password: (event) =>
    formAction('password', async () => {
      const f = await formFields(event);
      const u = await changeUser(actorOf(event), f.name ?? '', { password: f.password ?? '' });
      return { action: 'password', reset: u.name };
    }),
  /** Resets a user's two-factor sign-in (a lost phone): off, recovery codes gone; audited. */
  twofactor: (event) =>
    formAction('twofactor', async () => {
      const u = await changeUser(actorOf(event), (await formFields(event)).name ?? '', { two_factor: false });
      return { action: 'twofactor', resetTwoFactor: u.name };
    }),
  /** Which roles must sign in with two factors; their users without it set it up at their next request. */
  required: (event) =>
    formAction('required', async () => {
      const form = await event.request.formData();
      const db = await getDb();
      const before = await requiredRoles(db);
      const after = await setRequiredRoles(db, form.getAll('roles').map(String));
      await recordAudit(actorOf(event), 'settings.two_factor_roles', 'settings', 'two_factor_roles', { before, after });
      return { action: 'required', required: after };
    }),
  remove: (event) =>
    formAction('remove', async () => {
      const u = await deleteUser(actorOf(event), (await formFields(event)).name ?? '');
      return { action: 'remove', removed: u.name };
    }),
};
