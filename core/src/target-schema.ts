/**
 * What a target must be, as one schema: the console's API and admin form, and
 * the CLI, validate with it (the database's check constraints agree). Durations
 * are seconds.
 */
import * as z from 'zod/mini';

/** Shortest and longest scrape interval and the shortest timeout, seconds (the database's own check agrees). */
export const TARGET_LIMITS = Object.freeze({ minIntervalSeconds: 1, maxIntervalSeconds: 86_400, minTimeoutSeconds: 0.1 });
const MIN_INTERVAL = TARGET_LIMITS.minIntervalSeconds;
const MAX_INTERVAL = TARGET_LIMITS.maxIntervalSeconds;
const MIN_TIMEOUT = TARGET_LIMITS.minTimeoutSeconds;

/** A target's name: what the console shows and a ticket's audience. */
export const targetName = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, dot, dash or underscore, at most 63, starting with a letter or digit'),
  );

/** An exporter's metrics URL: http(s) with a host; a bare host gets /metrics. */
export const targetUrl = z.pipe(
  z.string().check(z.maxLength(2000)),
  z.transform((raw, ctx) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      ctx.issues.push({
        code: 'custom',
        message: 'not a URL; give the exporter’s metrics URL, e.g. http://pi-1.lan:9110/metrics',
        input: raw,
      });
      return z.NEVER;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      ctx.issues.push({ code: 'custom', message: 'must start with http:// or https://', input: raw });
      return z.NEVER;
    }
    if (u.pathname === '/') u.pathname = '/metrics';
    return u.toString();
  }),
);

const interval = z.int().check(z.gte(MIN_INTERVAL), z.lte(MAX_INTERVAL));
const timeout = z.number().check(z.gte(MIN_TIMEOUT), z.lte(MAX_INTERVAL));
export const targetLabels = z.record(
  z.string().check(z.regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a Prometheus label name')),
  z.string().check(z.maxLength(200)),
);

/** A bearer token for one exporter (its VIGIL_EXPORTER_TOKEN), as the exporter requires: 16 to 200 printable characters. */
const token = z.string().check(z.minLength(16), z.maxLength(200), z.regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'));

/** An exporter's PTY socket: ws:// or wss://, without credentials. */
const ptyUrl = z.string().check(
  z.maxLength(500),
  z.refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'ws:' || u.protocol === 'wss:') && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'a ws:// or wss:// URL without credentials, e.g. ws://10.0.0.5:9120/pty'),
);

const timeoutWithinInterval = (v: { interval_seconds?: number; timeout_seconds?: number }) =>
  v.timeout_seconds === undefined || v.interval_seconds === undefined || v.timeout_seconds <= v.interval_seconds;

/** `POST /api/v1/targets`: a new target; the timeout defaults to min(10 s, interval) and may not exceed it. */
export const newTarget = z
  .object({
    name: targetName,
    url: targetUrl,
    interval_seconds: z.optional(interval),
    timeout_seconds: z.optional(timeout),
    labels: z.optional(targetLabels),
    token: z.optional(token),
    pty_url: z.optional(ptyUrl),
  })
  .check(z.refine(timeoutWithinInterval, { message: 'timeout_seconds may not exceed interval_seconds', path: ['timeout_seconds'] }));

/** `PATCH /api/v1/targets/:id`: any of url, interval, timeout, labels, token (null: the default one again), paused. */
export const targetPatch = z
  .strictObject({
    url: z.optional(targetUrl),
    interval_seconds: z.optional(interval),
    timeout_seconds: z.optional(timeout),
    labels: z.optional(targetLabels),
    token: z.optional(z.nullable(token)),
    pty_url: z.optional(z.nullable(ptyUrl)),
    paused: z.optional(z.boolean()),
  })
  .check(z.refine(timeoutWithinInterval, { message: 'timeout_seconds may not exceed interval_seconds', path: ['timeout_seconds'] }));

/** `POST /api/v1/targets/scrape`: a test scrape of a URL not added yet (with its token, timeout). */
export const scrapeTest = z.strictObject({
  url: targetUrl,
  token: z.optional(token),
  timeout_seconds: z.optional(timeout),
});
