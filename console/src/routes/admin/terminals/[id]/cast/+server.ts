import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ApiError, api } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import type { RequestHandler } from './$types';

/** The session's asciicast v2 file (admins). */
export const GET: RequestHandler = api(async ({ params }) => {
  if (!/^\d{1,18}$/.test(params.id)) throw new ApiError(404, 'not_found', 'no such session');
  const row = await (await getDb())
    .selectFrom('terminal_sessions')
    .select(['recording', 'ended_at'])
    .where('id', '=', params.id)
    .executeTakeFirst();
  if (!row?.recording) throw new ApiError(404, 'not_found', 'no recording of that session');
  if (!row.ended_at) throw new ApiError(409, 'conflict', 'the session is still open');
  let size: number;
  try {
    size = statSync(row.recording).size;
  } catch {
    throw new ApiError(404, 'not_found', 'the recording file is gone (VIGIL_TERMINAL_RECORD_DIR)');
  }
  return new Response(Readable.toWeb(createReadStream(row.recording)) as ReadableStream, {
    headers: { 'content-type': 'application/x-asciicast', 'content-length': String(size), 'cache-control': 'no-store' },
  });
});
