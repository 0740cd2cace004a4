import { api, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import { recordingResponse, terminalSessionFor } from '$lib/server/terminal-sessions';
import type { RequestHandler } from './$types';

/** A session's asciicast v2 recording (admins: any; others: their own), once it has ended. */
export const GET: RequestHandler = api(async (event) =>
  recordingResponse(await terminalSessionFor(await getDb(), principalOf(event), event.params.id)),
);

export const _spec = routeSpec({ GET: { summary: "A terminal session's recording (asciicast v2)", produces: 'application/x-asciicast' } });
