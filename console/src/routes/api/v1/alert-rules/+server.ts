import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { createRule, listRuleViews, ruleBody } from '$lib/server/alerts';
import { api, jsonBody } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Every alert rule, by name. */
export const GET: RequestHandler = api(async () => json({ items: await listRuleViews() }));

/** Adds a rule → 201 `{rule, warning}`; the warning says when its selector matches no host today. */
export const POST: RequestHandler = api(async (event) => json(await createRule(actorOf(event), await jsonBody(event)), { status: 201 }));

export const _spec = routeSpec({
  GET: { summary: 'Alert rules' },
  POST: {
    summary: 'Adds an alert rule',
    description:
      'Kinds: threshold, disk_full, container, probe, certificate. A selector that matches no host today is saved, with a warning.',
    body: ruleBody,
    status: 201,
  },
});
