import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { type Database, getTerminalSession, queryTerminalSessions, type TerminalSession, type TerminalSessionFilter } from '@vigil/db';
import type { Kysely } from 'kysely';
import * as z from 'zod/mini';
import type { Page, TerminalSessionView } from '$lib/api';
import { ApiError, idOf, pageOf, pageQuery } from './api';
import type { Principal } from './auth';
import { queryOf } from './openapi';

/** A terminal session as the API shows it: the recording's path on disk never, only where to fetch it. */
export function terminalSessionView(s: TerminalSession): TerminalSessionView {
  const id = String(s.id);
  return {
    id,
    user_id: s.user_id,
    user_name: s.user_name,
    target_id: s.target_id,
    target_name: s.target_name,
    kind: s.kind,
    container: s.container,
    client_ip: s.client_ip,
    started_at: s.started_at.toISOString(),
    ended_at: s.ended_at?.toISOString() ?? null,
    bytes_in: Number(s.bytes_in),
    bytes_out: Number(s.bytes_out),
    exit_code: s.exit_code,
    exit_signal: s.exit_signal,
    end_reason: s.end_reason,
    recording: s.recording !== null && s.ended_at !== null ? { url: `/api/v1/terminal-sessions/${id}/recording` } : null,
  };
}

function timeOf(url: URL, name: string): Date | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const t = v.length <= 40 ? new Date(v) : new Date(Number.NaN);
  if (Number.isNaN(t.getTime())) throw new ApiError(400, 'bad_request', `${name} must be a time, e.g. 2026-12-01T00:00:00Z`);
  return t;
}

/** The filters of `GET /api/v1/terminal-sessions`, and its pages. */
export const terminalSessionsQuery = z.extend(pageQuery, {
  host: z.optional(z.string()),
  user: z.optional(z.string()),
  since: z.optional(z.string()),
  until: z.optional(z.string()),
  open: z.optional(z.enum(['true', 'false'])),
});

/**
 * `GET /api/v1/terminal-sessions`: open and past sessions, newest first.
 * Admins see everyone's, others their own. Filters: `host` (a target id),
 * `user` (a name; admins only), `since` and `until` (the start, ISO 8601),
 * `open` (true or false); pages as every list.
 * @throws ApiError 400 for a malformed filter, 403 for another user's sessions asked by a non-admin
 */
export async function listTerminalSessionsFor(db: Kysely<Database>, principal: Principal, url: URL): Promise<Page<TerminalSessionView>> {
  queryOf(url, terminalSessionsQuery);
  const { page, perPage } = pageOf(url);
  const filter: TerminalSessionFilter = {};
  const host = url.searchParams.get('host');
  if (host !== null) filter.targetId = idOf(host, 'host');
  const user = url.searchParams.get('user');
  if (principal.user.role === 'admin') {
    if (user !== null) filter.userName = user.slice(0, 64);
  } else {
    if (user !== null && user !== principal.user.name)
      throw new ApiError(403, 'forbidden', "only admins see other users' terminal sessions");
    filter.userId = principal.user.id;
  }
  filter.since = timeOf(url, 'since');
  filter.until = timeOf(url, 'until');
  const open = url.searchParams.get('open');
  if (open !== null) {
    if (open !== 'true' && open !== 'false') throw new ApiError(400, 'bad_request', 'open must be true or false');
    filter.open = open === 'true';
  }
  const { rows, total } = await queryTerminalSessions(db, filter, { limit: perPage, offset: (page - 1) * perPage });
  return { items: rows.map(terminalSessionView), total, page, per_page: perPage };
}

/**
 * One session that `principal` may see: an admin any, others their own.
 * @throws ApiError 404 for no such session, or one of somebody else's (never saying which)
 */
export async function terminalSessionFor(db: Kysely<Database>, principal: Principal, id: string): Promise<TerminalSession> {
  const s = await getTerminalSession(db, id);
  if (!s || (principal.user.role !== 'admin' && s.user_id !== principal.user.id)) {
    throw new ApiError(404, 'not_found', `no terminal session with id ${id.slice(0, 20)}`);
  }
  return s;
}

/**
 * A session's asciicast v2 recording as an HTTP answer, streamed from
 * VIGIL_TERMINAL_RECORD_DIR (the admin page's replay and the API both serve it).
 * @throws ApiError 404 when it was not recorded or its file is gone, 409 while the session is open
 */
export function recordingResponse(s: TerminalSession): Response {
  if (!s.recording) throw new ApiError(404, 'not_found', 'that session was not recorded (VIGIL_TERMINAL_RECORD_DIR was unset)');
  if (!s.ended_at) throw new ApiError(409, 'conflict', 'the session is still open; its recording is served once it ends');
  let size: number;
  try {
    size = statSync(s.recording).size;
  } catch {
    throw new ApiError(404, 'not_found', 'the recording file is gone from VIGIL_TERMINAL_RECORD_DIR');
  }
  return new Response(Readable.toWeb(createReadStream(s.recording)) as ReadableStream, {
    headers: { 'content-type': 'application/x-asciicast', 'content-length': String(size), 'cache-control': 'no-store' },
  });
}
