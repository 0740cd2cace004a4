import { actorOf } from '$lib/server/actor';
import { ApiError } from '$lib/server/errors';
import { formAction, formFields } from '$lib/server/forms';
import { addUser, changeUser, deleteUser, listUserViews } from '$lib/server/users';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({ users: await listUserViews() });

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
  remove: (event) =>
    formAction('remove', async () => {
      const u = await deleteUser(actorOf(event), (await formFields(event)).name ?? '');
      return { action: 'remove', removed: u.name };
    }),
};
