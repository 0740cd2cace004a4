import { databaseHealth } from '$lib/server/health';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** Whether the database answers within 3 s (no sign-in needed; no detail beyond that). */
export const GET: RequestHandler = () => databaseHealth();

export const _spec = routeSpec({ GET: { summary: 'The database answers (503 when not)' } });
