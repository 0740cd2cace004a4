import { api, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { recordingResponse, terminalSessionFor } from '$lib/server/terminal-sessions';
import type { RequestHandler } from './$types';

/** The session's asciicast v2 file (admins, by the route's policy). */
export const GET: RequestHandler = api(async (event) =>
  recordingResponse(await terminalSessionFor(await getDb(), principalOf(event), event.params.id)),
);
