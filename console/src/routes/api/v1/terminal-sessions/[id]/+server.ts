import { json } from '@sveltejs/kit';
import { api, principalOf } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import { terminalSessionFor, terminalSessionView } from '$lib/server/terminal-sessions';
import type { RequestHandler } from './$types';

/** One terminal session, with where its recording is when there is one (admins: any; others: their own). */
export const GET: RequestHandler = api(async (event) =>
  json(terminalSessionView(await terminalSessionFor(await getDb(), principalOf(event), event.params.id))),
);

export const _spec = routeSpec({ GET: { summary: 'One terminal session, with its recording when there is one' } });
