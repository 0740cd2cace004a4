import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ApiError, api, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { terminalSessionFor } from '$lib/server/terminal-sessions';
import type { RequestHandler } from './$types';

/** A session's asciicast v2 recording (admins: any; others: their own), once it has ended. */
export const GET: RequestHandler = api(async (event) => {
  const s = await terminalSessionFor(await getDb(), principalOf(event), event.params.id);
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
});
