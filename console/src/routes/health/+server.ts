import { processHealth } from '$lib/server/health';
import type { RequestHandler } from './$types';

/** The console process answers (no sign-in needed; says nothing but that). */
export const GET: RequestHandler = async () => processHealth();
