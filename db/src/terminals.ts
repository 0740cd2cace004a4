import type { Kysely } from 'kysely';
import type { Database, TerminalSession } from './database.js';

/** Who opened a terminal, on what, from where. */
export interface TerminalStart {
  userId: number;
  userName: string;
  targetId: number;
  targetName: string;
  kind: 'shell' | 'exec' | 'logs';
  container: string | null;
  origin: string | null;
  clientIp: string | null;
}

/** Records a terminal session as it opens; returns its row id. */
export async function startTerminalSession(db: Kysely<Database>, s: TerminalStart): Promise<string> {
  const row = await db
    .insertInto('terminal_sessions')
    .values({
      user_id: s.userId,
      user_name: s.userName,
      target_id: s.targetId,
      target_name: s.targetName,
      kind: s.kind,
      container: s.container,
      origin: s.origin,
      client_ip: s.clientIp,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** How a terminal session ended. Bytes: keystrokes in, output out. */
export interface TerminalEnd {
  bytesIn: number;
  bytesOut: number;
  exitCode: number | null;
  exitSignal: string | null;
  reason: string;
  recording?: string | null;
}

/** Records a terminal session's end (once; a second call changes nothing). */
export async function endTerminalSession(db: Kysely<Database>, id: string, end: TerminalEnd): Promise<void> {
  await db
    .updateTable('terminal_sessions')
    .set({
      ended_at: new Date(),
      bytes_in: end.bytesIn,
      bytes_out: end.bytesOut,
      exit_code: end.exitCode,
      exit_signal: end.exitSignal,
      end_reason: end.reason.slice(0, 500),
      recording: end.recording ?? null,
    })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .execute();
}

/** Terminal sessions, newest first: all, or one target's. */
export async function listTerminalSessions(
  db: Kysely<Database>,
  filter: { targetId?: number; limit?: number } = {},
): Promise<TerminalSession[]> {
  let q = db
    .selectFrom('terminal_sessions')
    .selectAll()
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 50);
  if (filter.targetId !== undefined) q = q.where('target_id', '=', filter.targetId);
  return q.execute();
}

/** Which terminal sessions to list: any of a user, a target, a time window on the start, open or ended. */
export interface TerminalSessionFilter {
  userId?: number;
  /** The user's name when the session opened (kept after the user is removed). */
  userName?: string;
  targetId?: number;
  /** Sessions started at or after this time. */
  since?: Date;
  /** Sessions started before this time. */
  until?: Date;
  /** true: still open; false: ended; unset: both. */
  open?: boolean;
}

/**
 * A page of terminal sessions, newest first, with how many match in all
 * (`GET /api/v1/terminal-sessions`).
 */
export async function queryTerminalSessions(
  db: Kysely<Database>,
  filter: TerminalSessionFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: TerminalSession[]; total: number }> {
  let q = db.selectFrom('terminal_sessions');
  if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
  if (filter.userName !== undefined) q = q.where('user_name', '=', filter.userName);
  if (filter.targetId !== undefined) q = q.where('target_id', '=', filter.targetId);
  if (filter.since !== undefined) q = q.where('started_at', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('started_at', '<', filter.until);
  if (filter.open !== undefined) q = q.where('ended_at', filter.open ? 'is' : 'is not', null);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

/** One terminal session by id (a decimal string of its bigint), or null. */
export async function getTerminalSession(db: Kysely<Database>, id: string): Promise<TerminalSession | null> {
  if (!/^\d{1,18}$/.test(id)) return null;
  return (await db.selectFrom('terminal_sessions').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}
