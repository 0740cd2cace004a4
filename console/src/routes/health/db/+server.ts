import { databaseHealth } from '$lib/server/health';
import type { RequestHandler } from './$types';

/** Whether the database answers within 3 s (no sign-in needed; no detail beyond that). */
export const GET: RequestHandler = () => databaseHealth();
