import { error, fail } from '@sveltejs/kit';
import { figureSeries, getInventory, namedSeries, roleAtLeast, setPaused, writeAudit } from '@vigil/db';
import { CHART_RANGES, chartRange } from '$lib/charts';
import { listAlertViews } from '$lib/server/alerts';
import { parseId } from '$lib/server/api';
import { clientAddress } from '$lib/server/auth';
import { getDb } from '$lib/server/db';
import { loadHost } from '$lib/server/fleet';
import { probeUptime, targetUptime } from '$lib/server/uptime';
import { inventoryView } from '$lib/server/views';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/** The host's id from the path. @throws 404 for anything but a PostgreSQL integer */
function hostId(raw: string): number {
  const id = parseId(raw);
  if (id === null) error(404, `No host with id ${raw}`);
  return id;
}

/**
 * The host, its charts over `?range=` (1h (default), 24h, 7d, 30d): the host's
 * figures, up to 8 interfaces and 12 containers (by name); its availability,
 * its containers and services, its events.
 */
export const load: PageServerLoad = async ({ params, locals, url }) => {
  const id = hostId(params.id);
  const db = await getDb();
  const range = chartRange(url.searchParams.get('range'));
  const { seconds, step } = CHART_RANGES[range];
  const now = Date.now();
  const from = new Date(now - seconds * 1000);
  const to = new Date(now);
  const [host, series, interfaces, containers, inventory] = await Promise.all([
    loadHost(db, id),
    figureSeries(db, id, from, to, step),
    namedSeries(db, 'interfaces', id, from, to, step, 8),
    namedSeries(db, 'containers', id, from, to, step, 12),
    getInventory(db, id),
  ]);
  if (!host) error(404, `No host with id ${id}; it may have been removed`);
  const [uptime, probes, alerts] = await Promise.all([
    targetUptime(db, host.target, now),
    probeUptime(db, id, now),
    listAlertViews({ state: 'all', target: String(id), per_page: '20' }),
  ]);
  const role = locals.principal?.user.role;
  return {
    ...host,
    range,
    /** The charts' range, Unix seconds. */
    window: { from: now / 1000 - seconds, to: now / 1000 },
    series,
    interfaces,
    containers,
    inventory: inventoryView(inventory),
    uptime,
    probes,
    /** Its alerts, open first then the latest resolved (20 at most). */
    alerts: alerts.items,
    serverTime: now,
    canOperate: role !== undefined && roleAtLeast(role, 'operator'),
    canTerminal: role !== undefined && roleAtLeast(role, 'developer'),
  };
};

/** Pause or resume (operator and above, as the access policy says for this page's writes): an event and an audit row. */
async function pause(event: RequestEvent, paused: boolean) {
  const id = hostId(event.params.id);
  const db = await getDb();
  const user = event.locals.principal!.user;
  const r = await setPaused(db, id, paused, user.name);
  if (!r) return fail(404, { message: `No host with id ${id}; it may have been removed` });
  if (r.before.paused !== paused)
    await writeAudit(db, {
      user,
      action: paused ? 'target.pause' : 'target.resume',
      objectType: 'target',
      objectId: id,
      clientAddress: clientAddress(event),
      before: { paused: r.before.paused, state: r.before.state },
      after: { paused: r.after.paused, state: r.after.state },
    });
  return { paused };
}

export const actions: Actions = {
  pause: (event) => pause(event, true),
  resume: (event) => pause(event, false),
};
