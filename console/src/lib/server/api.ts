/**
 * The REST API's edge: each route is `api(handler)`, reads its input with
 * {@link jsonBody}, {@link pageOf} and {@link idOf}, and calls a use case
 * (`targets.ts`, `users.ts`, `api-keys.ts`, `channels.ts`) that validates,
 * writes, audits and returns the view to answer with.
 */
import { randomUUID } from 'node:crypto';
import { json, type RequestEvent } from '@sveltejs/kit';
import * as z from 'zod/mini';
import type { ApiErrorBody } from '$lib/api';
import type { Principal } from './auth';
import { ApiError, refusalOf } from './errors';
import { log } from './log';
import { queryOf } from './openapi';

export { ApiError } from './errors';

/** The `{error}` answer. */
export function errorResponse(status: number, code: string, message: string, field?: string): Response {
  const body: ApiErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  return json(body, { status, headers: { 'cache-control': 'no-store' } });
}

/**
 * Wraps an API handler: refusals ({@link refusalOf}) become their status and
 * `{error}`; anything else is logged with an id and answered 500 with that id
 * only (no stack trace, no driver message ever reaches a client).
 */
export function api<E extends RequestEvent>(handler: (event: E) => Promise<Response>): (event: E) => Promise<Response> {
  return async (event) => {
    try {
      return await handler(event);
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) return errorResponse(refusal.status, refusal.code, refusal.message, refusal.field);
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

/** The largest JSON body the API reads, bytes (1 MiB); a larger one is refused with 413 before it is read whole. */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The request's JSON body, not yet checked (a use case validates it). A body
 * declared larger than {@link JSON_BODY_LIMIT_BYTES} is refused before any of it
 * is read; one that grows past it while read (chunked) is refused as soon as it does.
 * @throws ApiError 400 (not sent as JSON, or does not parse), 413 (too large)
 */
export async function jsonBody(event: RequestEvent): Promise<unknown> {
  if (!(event.request.headers.get('content-type') ?? '').includes('application/json'))
    throw new ApiError(400, 'bad_request', 'send the body as JSON (Content-Type: application/json)');
  const tooLarge = () =>
    new ApiError(413, 'too_large', `the body is larger than ${JSON_BODY_LIMIT_BYTES} bytes (1 MiB), the most the API reads`);
  if (Number(event.request.headers.get('content-length') ?? 0) > JSON_BODY_LIMIT_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = event.request.body?.getReader();
  try {
    for (;;) {
      const next = reader ? await reader.read() : null;
      if (!next || next.done) break;
      const value = next.value;
      size += value.byteLength;
      if (size > JSON_BODY_LIMIT_BYTES) {
        await reader?.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // The server's own limit (adapter-node's BODY_SIZE_LIMIT) ends the stream with a 413.
    if ((err as { status?: number }).status === 413) throw tooLarge();
    throw new ApiError(400, 'bad_request', 'the body could not be read');
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'bad_request', 'the body is not valid JSON');
  }
}

/** A whole number from 1 to `max`, as a query parameter. */
const wholeNumber = (max: number) =>
  z.string().check(z.refine((v) => /^\d{1,7}$/.test(v) && Number(v) >= 1 && Number(v) <= max, `expected a whole number from 1 to ${max}`));

/** `page` (from 1) and `per_page` (1 to 500, default 100). */
export const pageQuery = z.object({ page: z.optional(wholeNumber(1_000_000)), per_page: z.optional(wholeNumber(500)) });

/** `page` (from 1) and `per_page` (1 to 500, default 100) from the query string ({@link pageQuery}). @throws ApiError 400 */
export function pageOf(url: URL): { page: number; perPage: number } {
  const q = queryOf(url, pageQuery);
  return { page: q.page === undefined ? 1 : Number(q.page), perPage: q.per_page === undefined ? 100 : Number(q.per_page) };
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

const DAY = 86_400;
/** Longest range of raw heartbeats, or of buckets under an hour, seconds. */
const MAX_RAW_RANGE = 31 * DAY;
/** Longest range of hourly buckets (a year of rollups, and a little). */
const MAX_HOURLY_RANGE = 400 * DAY;
/** Most buckets one answer holds. */
const MAX_BUCKETS = 20_000;

function timeParam(url: URL, name: string, dflt: Date): Date {
  const v = url.searchParams.get(name);
  if (v === null) return dflt;
  const d = /^\d{9,11}(\.\d+)?$/.test(v) ? new Date(Number(v) * 1000) : new Date(v);
  if (Number.isNaN(d.getTime())) throw new ApiError(400, 'bad_request', `${name} must be an ISO 8601 time or Unix seconds`);
  return d;
}

/** `from`, `to` (ISO 8601 or Unix seconds) and `step` (whole seconds): a time range and its buckets. */
export const rangeQuery = z.object({
  from: z.optional(z.string().check(z.maxLength(40))),
  to: z.optional(z.string().check(z.maxLength(40))),
  step: z.optional(wholeNumber(9_999_999)),
});

/**
 * A time range and bucket from the query string ({@link rangeQuery}): `from` and `to` (ISO 8601 or
 * Unix seconds; default the hour before now), `step` (whole seconds, or null
 * when not given). Steps under an hour (and no step) reach back at most 31
 * days, whole hours (read from rollups) 400; at most 20,000 buckets.
 * @throws ApiError 400 naming the parameter and what to give instead
 */
export function rangeOf(url: URL): { from: Date; to: Date; step: number | null } {
  queryOf(url, rangeQuery);
  const to = timeParam(url, 'to', new Date());
  const from = timeParam(url, 'from', new Date(to.getTime() - 3_600_000));
  if (from > to) throw new ApiError(400, 'bad_request', 'from must be before to');
  const rangeSeconds = (to.getTime() - from.getTime()) / 1000;
  const stepParam = url.searchParams.get('step');
  const step = stepParam === null ? null : Number(stepParam);
  const hourly = step !== null && step % 3600 === 0;
  const max = hourly ? MAX_HOURLY_RANGE : MAX_RAW_RANGE;
  if (rangeSeconds > max)
    throw new ApiError(
      400,
      'bad_request',
      `the range may be at most ${max / DAY} days${hourly ? '' : '; for longer ones give a step of whole hours (step=3600), read from hourly rollups'}`,
    );
  if (step !== null && rangeSeconds / step > MAX_BUCKETS)
    throw new ApiError(400, 'bad_request', `that is over ${MAX_BUCKETS} buckets; give a longer step or a shorter range`);
  return { from, to, step };
}
