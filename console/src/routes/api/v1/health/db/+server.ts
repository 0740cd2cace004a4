import { json } from '@sveltejs/kit';
import { sql } from 'kysely';
import { errorResponse } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { log } from '$lib/server/log';
import type { RequestHandler } from './$types';

/** Whether the database answers within 3 s (no sign-in needed; no detail beyond that). */
export const GET: RequestHandler = async () => {
  try {
    const db = await getDb();
    await Promise.race([
      sql`select 1`.execute(db),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 3 s')), 3000).unref()),
    ]);
    return json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    log().warn({ err }, 'database health check failed');
    return errorResponse(503, 'database_unavailable', 'the database cannot be reached');
  }
};
