import { json } from '@sveltejs/kit';
import { addTarget, queryTargets, type TargetState } from '@vigil/db';
import type { Page, TargetView } from '$lib/api';
import { ApiError, api, audit, body, pageOf, targetView } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { newTarget } from '$lib/server/targets';
import type { RequestHandler } from './$types';

const STATES = ['unknown', 'up', 'down', 'stopped', 'paused'];

/**
 * Targets by name, with their newest heartbeat: `?state=up|down|unknown|stopped|paused`,
 * `?label=k=v` (repeatable, all must match), `?q=` (name contains), `page`, `per_page`.
 */
export const GET: RequestHandler = api(async ({ url }) => {
  const { page, perPage } = pageOf(url);
  const state = url.searchParams.get('state') ?? undefined;
  if (state !== undefined && !STATES.includes(state)) throw new ApiError(400, 'bad_request', `state must be one of ${STATES.join(', ')}`);
  const labels: Record<string, string> = {};
  for (const l of url.searchParams.getAll('label')) {
    const eq = l.indexOf('=');
    if (eq < 1) throw new ApiError(400, 'bad_request', `label ${JSON.stringify(l.slice(0, 40))} must be key=value`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const db = await getDb();
  const { items, total } = await queryTargets(db, {
    state: state as TargetState | 'paused' | undefined,
    labels,
    q: url.searchParams.get('q')?.slice(0, 100) || undefined,
    page,
    perPage,
  });
  const result: Page<TargetView> = { items: items.map((t) => targetView(t, t.heartbeat)), total, page, per_page: perPage };
  return json(result);
});

/** Adds a target: `{name, url, interval_seconds?, timeout_seconds?, labels?}` → 201 with it; 409 when the name is taken. */
export const POST: RequestHandler = api(async (event) => {
  const input = await body(event, newTarget);
  const t = await addTarget(await getDb(), { ...input, source: 'console' });
  const view = targetView(t);
  await audit(event, 'target.create', 'target', t.id, { after: view });
  return json(view, { status: 201 });
});
