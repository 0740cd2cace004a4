import { json } from '@sveltejs/kit';
import { actorOf } from '$lib/server/actor';
import { changeRule, deleteRule, ruleBody, showRule } from '$lib/server/alerts';
import { api, idOf, jsonBody } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** One alert rule. */
export const GET: RequestHandler = api(async ({ params }) => json(await showRule(idOf(params.id, 'alert rule'))));

/** Replaces a rule's definition → `{rule, warning}`. */
export const PUT: RequestHandler = api(async (event) =>
  json(await changeRule(actorOf(event), idOf(event.params.id, 'alert rule'), await jsonBody(event))),
);

/** Removes a rule with its alerts → 204. */
export const DELETE: RequestHandler = api(async (event) => {
  await deleteRule(actorOf(event), idOf(event.params.id, 'alert rule'));
  return new Response(null, { status: 204 });
});

export const _spec = routeSpec({
  GET: { summary: 'One alert rule' },
  PUT: { summary: "Replaces an alert rule's definition", body: ruleBody },
  DELETE: { summary: 'Removes an alert rule and its alerts' },
});
