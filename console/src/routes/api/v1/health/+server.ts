import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/** The console process answers (no sign-in needed; says nothing but that). */
export const GET: RequestHandler = async () => json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } });
