import { json } from '@sveltejs/kit';
import { showAlert } from '$lib/server/alerts';
import { api, idOf } from '$lib/server/api';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** One alert. */
export const GET: RequestHandler = api(async ({ params }) => json(await showAlert(idOf(params.id, 'alert'))));

export const _spec = routeSpec({ GET: { summary: 'One alert' } });
