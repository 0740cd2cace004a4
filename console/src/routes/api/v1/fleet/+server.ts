import { json } from '@sveltejs/kit';
import type { FleetEvent } from '$lib/api';
import { api } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { loadFleet } from '$lib/server/fleet';
import { routeSpec } from '$lib/server/openapi';
import { liveScrapers } from '$lib/server/scrapers';
import type { RequestHandler } from './$types';

/**
 * The fleet as its page shows it: every host by name with its state, newest
 * heartbeat and newest figures (one query), and how many scraper replicas are
 * live (0: nobody is watching; the states are as last seen). `/fleet/stream`
 * sends the same, then the changes, live.
 */
export const GET: RequestHandler = api(async () => {
  const db = await getDb();
  const [rows, scrapers] = await Promise.all([loadFleet(db), liveScrapers(db)]);
  const body: Extract<FleetEvent, { type: 'snapshot' }> = {
    type: 'snapshot',
    rows,
    scrapers,
    server_time: Date.now(),
  };
  return json(body);
});

export const _spec = routeSpec({ GET: { summary: 'Every host as the fleet page shows it, and the live scraper replicas' } });
