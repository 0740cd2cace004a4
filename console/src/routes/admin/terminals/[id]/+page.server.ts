import { error } from '@sveltejs/kit';
import { getDb } from '$lib/server/db';
import type { PageServerLoad } from './$types';

/** One recorded terminal session, to replay (admins). */
export const load: PageServerLoad = async ({ params }) => {
  if (!/^\d{1,18}$/.test(params.id)) error(404, 'No such session');
  const row = await (await getDb()).selectFrom('terminal_sessions').selectAll().where('id', '=', params.id).executeTakeFirst();
  if (!row) error(404, 'No such session');
  if (!row.recording) error(404, 'This session was not recorded');
  return {
    session: {
      id: row.id,
      user: row.user_name,
      host: row.target_name,
      started_at: row.started_at.toISOString(),
      kind: row.kind,
      container: row.container,
    },
  };
};
