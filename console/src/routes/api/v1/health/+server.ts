import { processHealth } from '$lib/server/health';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** The console process answers (no sign-in needed; says nothing but that). */
export const GET: RequestHandler = async () => processHealth();

export const _spec = routeSpec({ GET: { summary: 'The console process answers' } });
