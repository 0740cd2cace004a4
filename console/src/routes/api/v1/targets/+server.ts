import { json } from '@sveltejs/kit';
import { TARGET_STATES, type TargetState } from '@vigil/core/states';
import { newTarget } from '@vigil/core/target-schema';
import * as z from 'zod/mini';
import { actorOf } from '$lib/server/actor';
import { ApiError, api, jsonBody, pageOf, pageQuery } from '$lib/server/api';
import { queryOf, routeSpec } from '$lib/server/openapi';
import { createTarget, listTargetViews } from '$lib/server/targets';
import type { RequestHandler } from './$types';

const STATES: readonly string[] = [...TARGET_STATES, 'paused'];

const targetsQuery = z.extend(pageQuery, {
  state: z.optional(z.enum(['up', 'down', 'unknown', 'stopped', 'paused'])),
  label: z.optional(z.union([z.string(), z.array(z.string())])),
  q: z.optional(z.string()),
  provider: z.optional(z.string()),
  region: z.optional(z.string()),
  pending: z.optional(z.enum(['1', '0'])),
});

/**
 * Targets by name, with their newest heartbeat: `?state=up|down|unknown|stopped|paused`,
 * `?label=k=v` (repeatable, all must match), `?q=` (name contains), `?provider=`, `?region=`
 * (what enrolled hosts said), `?pending=1|0` (waiting for approval or not), `page`, `per_page`.
 */
export const GET: RequestHandler = api(async ({ url }) => {
  const query = queryOf(url, targetsQuery);
  const { page, perPage } = pageOf(url);
  const state = url.searchParams.get('state') ?? undefined;
  if (state !== undefined && !STATES.includes(state)) throw new ApiError(400, 'bad_request', `state must be one of ${STATES.join(', ')}`);
  const labels: Record<string, string> = {};
  for (const l of url.searchParams.getAll('label')) {
    const eq = l.indexOf('=');
    if (eq < 1) throw new ApiError(400, 'bad_request', `label ${JSON.stringify(l.slice(0, 40))} must be key=value`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return json(
    await listTargetViews({
      state: state as TargetState | 'paused' | undefined,
      labels,
      q: url.searchParams.get('q')?.slice(0, 100) || undefined,
      provider: query.provider?.slice(0, 100),
      region: query.region?.slice(0, 100),
      pending: query.pending === undefined ? undefined : query.pending === '1',
      page,
      perPage,
    }),
  );
});

/** Adds a target: `{name, url, interval_seconds?, timeout_seconds?, labels?, token?, pty_url?}` → 201 with it; 409 when the name is taken. */
export const POST: RequestHandler = api(async (event) => json(await createTarget(actorOf(event), await jsonBody(event)), { status: 201 }));

export const _spec = routeSpec({
  GET: { summary: 'Targets by name, each with its newest heartbeat', query: targetsQuery },
  POST: { summary: 'Adds a target (409 when the name is taken)', body: newTarget, status: 201 },
});
