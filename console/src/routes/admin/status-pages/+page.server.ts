import { fail } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { refusalOf } from '$lib/server/errors';
import { createStatusPage, deleteStatusPage, statusPages } from '$lib/server/status-pages';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({
  pages: (await statusPages()).map((p) => ({ id: p.id, slug: p.slug, title: p.title, groups: p.groups, note: p.note })),
});

export const actions: Actions = {
  add: async (event) => {
    const form = Object.fromEntries(await event.request.formData());
    const input = {
      slug: String(form.slug ?? '').trim(),
      title: String(form.title ?? ''),
      groups: String(form.groups ?? ''),
      note: String(form.note ?? ''),
    };
    try {
      const page = await createStatusPage(actorOf(event), input);
      return { action: 'add', added: page.slug };
    } catch (err) {
      const r = refusalOf(err);
      if (!r) throw err;
      return fail(r.status, { action: 'add', message: r.message, ...input });
    }
  },
  remove: async (event) => {
    const id = Number((await event.request.formData()).get('id'));
    try {
      await deleteStatusPage(actorOf(event), id);
      return { action: 'remove' };
    } catch (err) {
      const r = refusalOf(err);
      if (!r) throw err;
      return fail(r.status, { action: 'remove', message: r.message });
    }
  },
};
