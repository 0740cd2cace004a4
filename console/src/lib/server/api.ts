import { randomUUID } from 'node:crypto';
import { json, type RequestEvent } from '@sveltejs/kit';
import { maskChannelUrl } from '@vigil/core/channels';
import { maskUrl } from '@vigil/core/secrets';
import {
  AccountError,
  ChannelError,
  type Heartbeat,
  type NotificationChannel,
  type Target,
  TargetExistsError,
  type TargetInventory,
  writeAudit,
} from '@vigil/db';
import * as z from 'zod/mini';
import type { ApiErrorBody, ChannelView, HeartbeatView, InventoryView, TargetView } from '$lib/api';
import { clientAddress, type Principal } from './auth';
import { getDb } from './db';
import { endStreamsOf } from './live';
import { log } from './log';

/** A refusal with its HTTP status and `{error}` body; thrown by handlers, answered by {@link api}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The `{error}` answer. */
export function errorResponse(status: number, code: string, message: string, field?: string): Response {
  const body: ApiErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  return json(body, { status, headers: { 'cache-control': 'no-store' } });
}

/**
 * Wraps an API handler: known refusals become their status and `{error}`;
 * anything else is logged with an id and answered 500 with that id only (no
 * stack trace, no driver message ever reaches a client).
 */
export function api<E extends RequestEvent>(handler: (event: E) => Promise<Response>): (event: E) => Promise<Response> {
  return async (event) => {
    try {
      return await handler(event);
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err.status, err.code, err.message, err.field);
      if (err instanceof AccountError) {
        const status = { exists: 409, not_found: 404, invalid: 422, last_admin: 409 }[err.code];
        return errorResponse(status, err.code === 'exists' ? 'conflict' : err.code, err.message);
      }
      if (err instanceof TargetExistsError) return errorResponse(409, 'conflict', err.message);
      if (err instanceof ChannelError)
        return err.code === 'exists'
          ? errorResponse(409, 'conflict', err.message, err.field)
          : errorResponse(422, 'invalid', err.message, err.field);
      const id = randomUUID();
      log().error({ err, errorId: id, route: event.route.id }, 'API request failed');
      return errorResponse(500, 'internal', `internal error; the console's log has it under ${id}`);
    }
  };
}

/** The request's principal; the policy in hooks.server.ts has made sure there is one. */
export function principalOf(event: RequestEvent): Principal {
  const p = event.locals.principal;
  if (!p) throw new ApiError(401, 'unauthenticated', 'sign in first (or send an API key)');
  return p;
}

/**
 * The request's JSON body checked against `schema`.
 * @throws ApiError 400 (not JSON), 422 (a field is wrong: its path in `field`)
 */
export async function body<S extends z.ZodMiniType>(event: RequestEvent, schema: S): Promise<z.infer<S>> {
  if (!(event.request.headers.get('content-type') ?? '').includes('application/json'))
    throw new ApiError(400, 'bad_request', 'send the body as JSON (Content-Type: application/json)');
  let raw: unknown;
  try {
    raw = await event.request.json();
  } catch {
    throw new ApiError(400, 'bad_request', 'the body is not valid JSON');
  }
  const r = z.safeParse(schema, raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join('.');
    throw new ApiError(422, 'invalid', field ? `${field}: ${issue.message}` : issue.message, field || undefined);
  }
  return r.data;
}

/** `page` (from 1) and `per_page` (1 to 500, default 100) from the query string. @throws ApiError 400 */
export function pageOf(url: URL): { page: number; perPage: number } {
  const num = (name: string, dflt: number, max: number) => {
    const v = url.searchParams.get(name);
    if (v === null) return dflt;
    if (!/^\d{1,6}$/.test(v) || Number(v) < 1 || Number(v) > max)
      throw new ApiError(400, 'bad_request', `${name} must be a whole number from 1 to ${max}`);
    return Number(v);
  };
  return { page: num('page', 1, 1_000_000), perPage: num('per_page', 100, 500) };
}

/** A path's id as a PostgreSQL integer, or null for anything else (which must not reach a query). */
export function parseId(raw: string): number | null {
  const id = Number(raw);
  return /^\d{1,10}$/.test(raw) && id > 0 && id <= 2_147_483_647 ? id : null;
}

/** A route's numeric id (see {@link parseId}). @throws ApiError 404 for anything else */
export function idOf(raw: string, what = 'target'): number {
  const id = parseId(raw);
  if (id === null) throw new ApiError(404, 'not_found', `no ${what} with id ${raw.slice(0, 20)}`);
  return id;
}

/** Writes an audit row for the request's principal, from its client address; a change to a user or key ends that user's open streams. */
export async function audit(
  event: RequestEvent,
  action: string,
  objectType: string,
  objectId: string | number | null,
  change: { before?: unknown; after?: unknown } = {},
): Promise<void> {
  const { user } = principalOf(event);
  await writeAudit(await getDb(), { user, action, objectType, objectId, clientAddress: clientAddress(event), ...change });
  // A user's account or keys changed: their open streams end, and reconnect only if still allowed.
  if (objectType === 'user' && objectId !== null) endStreamsOf(Number(objectId));
  const owner = (change.after ?? change.before) as { user_id?: unknown } | undefined;
  if (objectType === 'api_key' && typeof owner?.user_id === 'number') endStreamsOf(owner.user_id);
}

/** A heartbeat as the API shows it. */
export function heartbeatView(h: Heartbeat): HeartbeatView {
  return {
    time: h.time.toISOString(),
    up: h.up,
    duration_seconds: h.duration_seconds,
    error: h.error,
    cpu_usage_percent: h.cpu_usage_percent,
    memory_used_bytes: h.memory_used_bytes,
    memory_total_bytes: h.memory_total_bytes,
    disk_used_bytes: h.disk_used_bytes,
    disk_total_bytes: h.disk_total_bytes,
    disk_avail_bytes: h.disk_avail_bytes,
    load1: h.load1,
    uptime_seconds: h.uptime_seconds,
    pty_sessions: h.pty_sessions,
  };
}

/** A target as the API shows it: its URL's password masked (the API, and so a browser, never holds it). */
export function targetView(t: Target, heartbeat: Heartbeat | null = null): TargetView {
  return {
    id: t.id,
    name: t.name,
    url: maskUrl(t.url),
    interval_seconds: t.interval_seconds,
    timeout_seconds: t.timeout_seconds,
    labels: t.labels,
    source: t.source,
    state: t.state,
    paused: t.paused,
    state_changed_at: t.state_changed_at.toISOString(),
    created_at: t.created_at.toISOString(),
    has_token: t.token !== null,
    pty_url: t.pty_url,
    heartbeat: heartbeat ? heartbeatView(heartbeat) : null,
  };
}

/** A target's stored inventory as the API shows it; empty when none was stored. */
export function inventoryView(inv: TargetInventory | null): InventoryView {
  return {
    scraped_at: inv?.scraped_at.toISOString() ?? null,
    changed_at: inv?.changed_at.toISOString() ?? null,
    containers: inv?.containers ?? [],
    services: inv?.services ?? [],
  };
}

/** A channel as the API shows it: its URL masked (a webhook's path is its secret). */
export function channelView(c: NotificationChannel): ChannelView {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    url: maskChannelUrl(c.kind, c.url),
    enabled: c.enabled,
    created_at: c.created_at.toISOString(),
  };
}
