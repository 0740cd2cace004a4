import { json } from '@sveltejs/kit';
import type { FleetEvent } from '$lib/api';
import { api } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { loadFleet } from '$lib/server/fleet';
import type { RequestHandler } from './$types';

/**
 * The fleet as its page shows it: every host by name with its state, newest
 * heartbeat and newest figures (one query). `/fleet/stream` sends the same
 * rows, then their changes, live.
 */
export const GET: RequestHandler = api(async () => {
  const body: Extract<FleetEvent, { type: 'snapshot' }> = {
    type: 'snapshot',
    rows: await loadFleet(await getDb()),
    server_time: Date.now(),
  };
  return json(body);
});
