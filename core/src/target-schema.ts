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
/** How many labels a target may have, and how long their names and values may be (characters). */
export const LABEL_LIMITS = Object.freeze({ maxLabels: 32, maxNameLength: 64, maxValueLength: 200 });

/** Labels Prometheus or Vigil set on a target's series themselves (Prometheus' `instance` and `job`, Vigil's `vigil_target` in /sd), which a target's own may not take. */
export const RESERVED_LABELS: readonly string[] = Object.freeze(['instance', 'job', 'vigil_target']);

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * What is wrong with a target's labels, in words naming the label (a long name
 * cut short), or null when they follow Prometheus' rules and Vigil's limits:
 * names `[a-zA-Z_][a-zA-Z0-9_]*`, none starting with `__` (Prometheus' own) or
 * in {@link RESERVED_LABELS}, and the {@link LABEL_LIMITS}.
 */
export function labelsProblem(labels: Readonly<Record<string, string>>): string | null {
  const names = Object.keys(labels);
  const { maxLabels, maxNameLength, maxValueLength } = LABEL_LIMITS;
  if (names.length > maxLabels) return `at most ${maxLabels} labels (got ${names.length})`;
  for (const name of names) {
    const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
    if (name.length > maxNameLength) return `label name ${shown} is longer than ${maxNameLength} characters`;
    if (!LABEL_NAME.test(name)) return `label name ${shown} is not a Prometheus label name (a letter or _, then letters, digits or _)`;
    if (name.startsWith('__')) return `label name ${shown}: names starting with __ are Prometheus' own`;
    if (RESERVED_LABELS.includes(name))
      return `label name ${shown} is one Vigil or Prometheus sets itself (${RESERVED_LABELS.join(', ')}); pick another`;
    if ((labels[name] ?? '').length > maxValueLength) return `the value of label ${shown} is longer than ${maxValueLength} characters`;
  }
  return null;
}

/**
 * The labels of `labels` that follow the rules ({@link labelsProblem}), at most
 * {@link LABEL_LIMITS}.maxLabels of them: what is served to Prometheus for a
 * target stored before the rules held.
 */
export function validLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [name, value] of Object.entries(labels)) {
    if (n === LABEL_LIMITS.maxLabels) break;
    if (labelsProblem({ [name]: value }) === null) {
      out[name] = value;
      n++;
    }
  }
  return out;
}

/** A target's labels (see {@link labelsProblem}): the one rule for the API, the admin form, the CLI and enrolment. */
export const targetLabels = z.record(z.string(), z.string()).check(
  z.superRefine((labels, ctx) => {
    const problem = labelsProblem(labels);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
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
