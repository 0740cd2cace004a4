import { listTargets } from '@vigil/db';
import { parseId } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { loadEvents } from '$lib/server/fleet';
import type { PageServerLoad } from './$types';

const PER_PAGE = 50;
/** The kinds of event there are: state changes, and pauses. */
const EVENT_TYPES = ['state', 'paused', 'resumed'];

/** Events, newest first: `?host=<id>`, `?type=state|paused|resumed`, `?page=` of 50; with the hosts to filter by. */
export const load: PageServerLoad = async ({ url }) => {
  const db = await getDb();
  const host = parseId(url.searchParams.get('host') ?? '') ?? undefined;
  const t = url.searchParams.get('type');
  const type = t !== null && EVENT_TYPES.includes(t) ? t : undefined;
  const page = Math.max(1, Math.min(100_000, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1));
  const [{ events, total }, targets] = await Promise.all([
    loadEvents(db, { targetId: host, type, page, perPage: PER_PAGE }),
    listTargets(db),
  ]);
  return {
    events,
    total,
    page,
    pages: Math.max(1, Math.ceil(total / PER_PAGE)),
    filter: { host: host ?? null, type: type ?? null },
    hosts: targets.map((x) => ({ id: x.id, name: x.name })),
    types: EVENT_TYPES,
    serverTime: Date.now(),
  };
};
