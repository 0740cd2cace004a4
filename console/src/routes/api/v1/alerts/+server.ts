import { json } from '@sveltejs/kit';
import { alertsQuery, listAlertViews } from '$lib/server/alerts';
import { api } from '$lib/server/api';
import { queryOf, routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Alerts, open ones first then newest: `?state=open|pending|firing|resolved|all&target=&rule=&held=inhibited|silenced&page=&per_page=`. */
export const GET: RequestHandler = api(async ({ url }) => json(await listAlertViews(queryOf(url, alertsQuery))));

export const _spec = routeSpec({
  GET: { summary: 'Alerts (open by default) with their history', query: alertsQuery },
});
