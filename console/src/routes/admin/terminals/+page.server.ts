import { listTerminalSessions } from '@vigil/db';
import { getDb } from '$lib/server/db';
import type { PageServerLoad } from './$types';

/** The last 200 terminal sessions, newest first (admins). */
export const load: PageServerLoad = async () => {
  const rows = await listTerminalSessions(await getDb(), { limit: 200 });
  return {
    sessions: rows.map((r) => ({
      id: r.id,
      user: r.user_name,
      host: r.target_name,
      target_id: r.target_id,
      kind: r.kind,
      container: r.container,
      client_ip: r.client_ip,
      started_at: r.started_at.toISOString(),
      ended_at: r.ended_at?.toISOString() ?? null,
      bytes_in: Number(r.bytes_in),
      bytes_out: Number(r.bytes_out),
      exit_code: r.exit_code,
      end_reason: r.end_reason,
      recorded: r.recording !== null,
    })),
  };
};
