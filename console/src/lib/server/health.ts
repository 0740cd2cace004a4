/**
 * The console's health, for load balancers and compose healthchecks: at the
 * root (`/health`, `/health/db`) and under `/api/v1`, without sign-in, saying
 * nothing but whether the process and its database answer.
 */
import { json } from '@sveltejs/kit';
import { sql } from 'kysely';
import { errorResponse } from './api';
import { getDb } from './db';
import { log } from './log';

/** The console process answers: 200 `{status: "ok"}`. */
export function processHealth(): Response {
  return json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } });
}

/** Whether the database answers `select 1` within 3 s: 200 `{status: "ok"}`, else 503 (the cause is logged, never answered). */
export async function databaseHealth(): Promise<Response> {
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
}
