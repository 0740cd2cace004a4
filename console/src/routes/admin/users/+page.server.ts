import { createUser, getUser, listUsers, removeUser, setPassword, setRole } from '@vigil/db';
import { userView } from '$lib/server/accounts';
import { ApiError, audit, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { formAction, formFields } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ users: (await listUsers(await getDb())).map(userView) });

export const actions: Actions = {
  create: (event) =>
    formAction('create', async () => {
      const f = await formFields(event);
      if ((f.password ?? '') !== (f.confirm ?? '')) throw new ApiError(422, 'invalid', 'the two passwords differ', 'confirm');
      const u = await createUser(await getDb(), { name: f.name?.trim() ?? '', role: f.role ?? '', password: f.password ?? '' });
      await audit(event, 'user.create', 'user', u.id, { after: userView(u) });
      return { action: 'create', created: u.name };
    }),
  role: (event) =>
    formAction('role', async () => {
      const f = await formFields(event);
      const r = await setRole(await getDb(), f.name ?? '', f.role ?? '');
      await audit(event, 'user.set_role', 'user', r.after.id, { before: userView(r.before), after: userView(r.after) });
      return { action: 'role', changed: r.after.name };
    }),
  password: (event) =>
    formAction('password', async () => {
      const f = await formFields(event);
      const u = await setPassword(await getDb(), f.name ?? '', f.password ?? '');
      await audit(event, 'user.reset_password', 'user', u.id);
      return { action: 'password', reset: u.name };
    }),
  remove: (event) =>
    formAction('remove', async () => {
      const f = await formFields(event);
      if (f.name === principalOf(event).user.name) throw new ApiError(409, 'conflict', 'you cannot remove yourself; another admin can');
      const db = await getDb();
      if (!(await getUser(db, f.name ?? ''))) throw new ApiError(404, 'not_found', 'that user is gone');
      const u = await removeUser(db, f.name ?? '');
      await audit(event, 'user.remove', 'user', u.id, { before: userView(u) });
      return { action: 'remove', removed: u.name };
    }),
};
