import { redirect } from '@sveltejs/kit';
import { getDb } from '$lib/server/db';
import { endStreamsOf } from '$lib/server/live';
import { signOut } from '$lib/server/login';
import type { RequestHandler } from './$types';

/** Sign-out (a form's POST): the session ends in the database, not only its cookie. */
export const POST: RequestHandler = async ({ cookies, locals }) => {
  await signOut(await getDb(), cookies);
  if (locals.principal) endStreamsOf(locals.principal.user.id);
  redirect(303, '/login');
};
