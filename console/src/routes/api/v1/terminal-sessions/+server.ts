import { json } from '@sveltejs/kit';
import { api, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import { listTerminalSessionsFor, terminalSessionsQuery } from '$lib/server/terminal-sessions';
import type { RequestHandler } from './$types';

/** Terminal sessions, newest first: `host`, `user`, `since`, `until`, `open`, `page`, `per_page` (admins see all, others their own). */
export const GET: RequestHandler = api(async (event) => json(await listTerminalSessionsFor(await getDb(), principalOf(event), event.url)));

export const _spec = routeSpec({
  GET: { summary: "Terminal sessions, open and past, newest first (an admin: everyone's)", query: terminalSessionsQuery },
});
