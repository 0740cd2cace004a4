import { readFileSync } from 'node:fs';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { maskUrl } from './secrets.js';

// zod/mini (the tree-shakable build, a sixth of zod's heap in the exporter's
// bundle) carries no messages of its own; English ones, as zod's default.
z.config(en());

/** Thrown when the environment holds a bad value; the message names each variable and what it expects. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses environment variables with a zod object schema whose keys are the
 * variable names, and freezes the result.
 * @throws ConfigError listing every bad variable: its name, what was expected, what was given
 */
export function parseEnv<S extends z.ZodMiniObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<S>> {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    picked[key] = v === '' ? undefined : v;
  }
  const result = schema.safeParse(picked);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      const given = picked[name];
      const shown = given === undefined ? 'nothing' : showValue(name, given);
      return `  ${name}: ${issue.message} (got ${shown})`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

/**
 * How a bad value is quoted back in a configuration error: secrets never
 * (names with TOKEN, SECRET, KEY or PASSWORD), URLs with their password masked,
 * long values cut.
 */
export function showValue(name: string, value: string): string {
  if (/TOKEN|SECRET|KEY|PASSWORD/.test(name)) return '(hidden)';
  const shown = /URL|HOST/.test(name) && value.includes('://') ? maskUrl(value) : value;
  return JSON.stringify(shown.length > 200 ? `${shown.slice(0, 200)}…` : shown);
}

/**
 * Records a custom issue on a transform's payload (zod/mini has no
 * `ctx.addIssue` there) and returns zod's NEVER, so `return invalid(ctx, '…')`
 * reads as the failure it is.
 */
export function invalid(ctx: z.core.ParsePayload, message: string): never {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
  return z.NEVER;
}

/** A listen address as `host:port`, `[v6]:port` or `:port` (all interfaces). */
export interface ListenAddress {
  host: string;
  port: number;
}

/** A zod schema for a listen address variable, with a default. */
export function listenAddress(defaultValue: string) {
  return z.pipe(
    z._default(z.string(), defaultValue),
    z.transform((s, ctx): ListenAddress => {
      const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(s.trim());
      const port = m ? Number(m[3]) : NaN;
      if (!m || !(port >= 0 && port <= 65535)) {
        return invalid(ctx, 'expected host:port, [ipv6]:port or :port, e.g. 127.0.0.1:9110');
      }
      return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
    }),
  );
}

/** A zod schema for a number of seconds given as a plain number or with a unit: `15`, `15s`, `500ms`, `2m`. */
export function seconds(defaultValue: number, { min = 0, max = Infinity } = {}) {
  return z.pipe(
    z.optional(z.string()),
    z.transform((s, ctx): number => {
      if (s === undefined) return defaultValue;
      const v = parseDuration(s);
      if (v === null || v < min || v > max) {
        const range = max === Infinity ? `at least ${min} s` : `between ${min} s and ${max} s`;
        return invalid(ctx, `expected a duration ${range} such as 5, 5s, 500ms, 1m, 12h or 7d`);
      }
      return v;
    }),
  );
}

/** `15` → 15, `15s` → 15, `500ms` → 0.5, `2m` → 120, `1h` → 3600, `7d` → 604800 (seconds); null when unreadable. */
export function parseDuration(s: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n / 1000 : unit === 'm' ? n * 60 : unit === 'h' ? n * 3600 : unit === 'd' ? n * 86_400 : n;
}

/** A zod schema for a whole number given as a string. */
export function integer(defaultValue: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  return z.pipe(
    z.optional(z.string()),
    z.transform((s, ctx): number => {
      if (s === undefined) return defaultValue;
      const n = Number(s);
      if (!/^\s*\d+\s*$/.test(s) || n < min || n > max) {
        return invalid(ctx, `expected a whole number from ${min} to ${max}`);
      }
      return n;
    }),
  );
}

/** The log levels pino knows. */
export const logLevel = z._default(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info');

/** A boolean variable: 1/0, true/false, yes/no; unset is false. */
export const flag = z.pipe(
  z.optional(z.enum(['1', '0', 'true', 'false', 'yes', 'no'], { message: 'expected 1 or 0 (true/false, yes/no)' })),
  z.transform((v) => v === '1' || v === 'true' || v === 'yes'),
);

/** A secret file's text without the line ends after it (`echo` and editors add one), in linear time. */
export function withoutLineEnds(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === '\n' || text[end - 1] === '\r')) end--;
  return text.slice(0, end);
}

/**
 * Secrets given as files: for each NAME, when `NAME_FILE` is set (a Docker or
 * compose secret under /run/secrets, a systemd credential under
 * $CREDENTIALS_DIRECTORY, a token file only root can read), its contents less
 * the trailing newline become NAME. Read once, at start.
 * @returns a copy of env with those secrets filled in (NAME_FILE kept)
 * @throws ConfigError when both NAME and NAME_FILE are set, or the file cannot be
 *   read or is empty: naming the variable and the file, never its contents
 */
export function readSecretFiles(env: Record<string, string | undefined>, names: readonly string[]): Record<string, string | undefined> {
  const out = { ...env };
  const problems: string[] = [];
  for (const name of names) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`  ${name}_FILE: ${name} is set too; set one of them`);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push(
        `  ${name}_FILE: cannot read ${JSON.stringify(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path and that this user may read it`,
      );
      continue;
    }
    const secret = withoutLineEnds(text);
    if (secret === '') problems.push(`  ${name}_FILE: ${JSON.stringify(file)} is empty`);
    else out[name] = secret;
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return out;
}

/** `VIGIL_EXPORTER_TOKEN_FILE`: the token read from a file (see {@link readSecretFiles}). */
export const tokenFileSchema = z.optional(z.string());

/** `VIGIL_EXPORTER_TOKEN`, the secret between exporters and the scraper: one variable, both sides. */
export const tokenSchema = z.optional(
  z.string().check(z.minLength(16, 'expected at least 16 characters; make one with `openssl rand -hex 32`')),
);
