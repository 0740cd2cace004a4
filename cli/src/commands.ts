import { parseArgs } from 'node:util';
import { maskChannelUrl } from '@vigil/core/channels';
import { ConfigError, parseDuration, parseEnv } from '@vigil/core/config';
import { maskUrl } from '@vigil/core/secrets';
import {
  type Account,
  AccountError,
  addChannel,
  addTarget,
  ChannelError,
  checkDatabase,
  createDb,
  createUser,
  DATABASE_URL,
  type Database,
  DatabaseUnreachableError,
  DatabaseUrlError,
  generatePassword,
  listChannels,
  listTargets,
  listUsers,
  MIN_PASSWORD_LENGTH,
  migrateDown,
  migrateToLatest,
  removeChannel,
  removeTarget,
  removeUser,
  requireCurrentSchema,
  resolveDatabaseUrl,
  SchemaBehindError,
  setPassword,
  setRole,
  TargetExistsError,
  writeAudit,
} from '@vigil/db';
import type { Kysely } from 'kysely';
import * as z from 'zod/mini';

/** What the database commands read from the environment. */
const DATABASE_SCHEMA = z.object({ DATABASE_URL });

/** How the CLI is run from a checkout; every hint it prints starts with it. */
export const VIGIL = 'npx vigil';

export const HELP = `vigil — watch a fleet of Linux hosts

Usage (from a checkout, after npm install; \`npm start\` is \`${VIGIL} start\`):
  ${VIGIL} start                   run exporter, scraper and console on this machine
                                    (embedded database in .vigil/pgdata when DATABASE_URL is unset)
  ${VIGIL} exporter [--help]       run the exporter alone (one per host)
  ${VIGIL} scraper [--help]        run the scraper alone
  ${VIGIL} console [--help]        run the console alone
  ${VIGIL} migrate [--down]        bring the database schema up to date (or revert the last migration)
  ${VIGIL} targets list [--json]   list targets with their state
  ${VIGIL} targets add NAME URL [--interval 15s] [--timeout 10s] [--label key=value ...]
                                    add a target; URL is the exporter's metrics URL,
                                    e.g. http://pi-1.lan:9110/metrics
  ${VIGIL} targets remove NAME     remove a target with its heartbeats and events
  ${VIGIL} channels list           list notification channels (URLs masked)
  ${VIGIL} channels add NAME (--webhook URL | --slack URL | --alertmanager URL)
                                    send every target's down and recovery events there:
                                    a JSON webhook, a Slack-compatible incoming webhook,
                                    or an Alertmanager (its base URL, e.g. http://am.lan:9093)
  ${VIGIL} channels remove NAME    stop sending to a channel
  ${VIGIL} users list              list console users and their roles
  ${VIGIL} users create NAME --role ROLE [--generate-password]
                                    add a console user (roles: admin, operator, developer,
                                    viewer); the password is asked for on a terminal, read
                                    from the first line of stdin, or generated and printed once
  ${VIGIL} users set-role NAME ROLE
  ${VIGIL} users reset-password NAME [--generate-password]
                                    set a new password (as create) and sign the user out everywhere
  ${VIGIL} users remove NAME       remove a user with their sessions and API keys
  ${VIGIL} --help                  this text

Environment (each program reads its own; --help on a program lists them all):
  DATABASE_URL                      postgres://user@host:5432/db, pglite://<dir>, or unset for embedded PGlite
  VIGIL_EXPORTER_TOKEN              bearer token the scraper sends and exporters require (16+ characters)
  VIGIL_EXPORTER_INSECURE           1 to let an exporter listen beyond loopback without a token
  VIGIL_EXPORTER_LISTEN             exporter address (default 127.0.0.1:9110)
  VIGIL_SCRAPER_LISTEN              scraper's /metrics, /sd and /health (default 127.0.0.1:9111)
  VIGIL_CONSOLE_LISTEN              console address (default 127.0.0.1:3000)
  VIGIL_CONSOLE_ORIGIN              the console's public origin, e.g. https://vigil.example.com
                                    (default http://localhost:<port>); other Host headers are refused
  VIGIL_CONSOLE_PROXY_HOPS          reverse proxies in front of the console (X-Forwarded-For; default 0)
  VIGIL_SESSION_MAX_AGE, VIGIL_SESSION_IDLE
                                    console session lifetime (default 7d) and idle limit (default 12h)
  VIGIL_LOCAL_INTERVAL              scrape interval of this machine's own exporter under vigil start (default 15s)
  VIGIL_SCRAPE_CONCURRENCY          scrapes at once (default 64)
  VIGIL_SCRAPE_BODY_LIMIT           largest exposition accepted, in bytes (default 16777216)
  VIGIL_DOWN_AFTER_INTERVALS        intervals without a successful scrape before a target is down (default 3)
  VIGIL_RETENTION_DAYS              days of heartbeats kept (default 30)
  VIGIL_ROLLUP_RETENTION_DAYS       days of hourly rollups kept, for long charts (default 365)
  VIGIL_HEARTBEAT_QUEUE_LIMIT       heartbeats held while the database is away (default 100000)
  VIGIL_LOG_LEVEL, VIGIL_LOG_PRETTY log level (default info); 1 for human-readable logs
  Exporter host paths, collectors, containers and probes: ${VIGIL} exporter --help
`;

/** The subcommands of \`vigil targets\`, \`vigil channels\` and \`vigil users\`, listed when one is given alone. */
const SUBCOMMANDS: Record<string, string> = {
  targets: `usage: ${VIGIL} targets list [--json]
       ${VIGIL} targets add NAME URL [--interval 15s] [--timeout 10s] [--label key=value ...]
       ${VIGIL} targets remove NAME`,
  channels: `usage: ${VIGIL} channels list
       ${VIGIL} channels add NAME (--webhook URL | --slack URL | --alertmanager URL)
       ${VIGIL} channels remove NAME`,
  users: `usage: ${VIGIL} users list
       ${VIGIL} users create NAME --role admin|operator|developer|viewer [--generate-password]
       ${VIGIL} users set-role NAME ROLE
       ${VIGIL} users reset-password NAME [--generate-password]
       ${VIGIL} users remove NAME`,
};

/** Shortest and longest scrape interval and timeout, in seconds: below this a scrape is no use, above it the schema refuses. */
export const LIMITS = { minIntervalSeconds: 1, maxIntervalSeconds: 86_400, minTimeoutSeconds: 0.1 };

/** A user mistake on the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Out = (s: string) => void;

/** Where a command gets a password it must not take from argv (see password.ts). */
export type PasswordSource = (prompt: string) => Promise<string>;

/** Validates a target's metrics URL: http(s) with a host. */
export function checkTargetUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`"${maskUrl(raw)}" is not a URL; give the exporter's metrics URL, e.g. http://pi-1.lan:9110/metrics`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`"${maskUrl(raw)}" must start with http:// or https://`);
  if (u.pathname === '/') u.pathname = '/metrics';
  return u.toString();
}

/**
 * `vigil migrate`, `vigil targets …` and `vigil channels …`: the commands that
 * only talk to the database. Only \`migrate\` changes the schema; the others
 * refuse a schema that is behind, saying how to migrate.
 * @throws UsageError (exit 2) for a mistake on the command line, DatabaseUnreachableError, SchemaBehindError
 */
export async function runDbCommand(
  argv: string[],
  out: Out,
  env: Record<string, string | undefined> = process.env,
  password: PasswordSource = async (prompt) => (await import('./password.js')).readPassword(prompt),
): Promise<void> {
  const [cmd, sub, ...rest] = argv;
  // Usage first: a mistake on the command line needs no database.
  if (cmd !== 'migrate' && !sub) throw new UsageError(SUBCOMMANDS[cmd!] ?? `unknown command "vigil ${cmd}"; see ${VIGIL} --help`);
  if (cmd === 'targets' && !['list', 'add', 'remove'].includes(sub!))
    throw new UsageError(`unknown command "vigil targets ${sub}"\n${SUBCOMMANDS.targets}`);
  if (cmd === 'channels' && !['list', 'add', 'remove'].includes(sub!))
    throw new UsageError(`unknown command "vigil channels ${sub}"\n${SUBCOMMANDS.channels}`);
  if (cmd === 'users' && !['list', 'create', 'set-role', 'reset-password', 'remove'].includes(sub!))
    throw new UsageError(`unknown command "vigil users ${sub}"\n${SUBCOMMANDS.users}`);
  const work =
    cmd === 'migrate'
      ? migrateCommand(argv.slice(1), out)
      : cmd === 'channels'
        ? channelsCommand(sub!, rest, out)
        : cmd === 'users'
          ? usersCommand(sub!, rest, out, password)
          : targetsCommand(sub!, rest, out);
  const url = resolveDatabaseUrl(parseEnv(DATABASE_SCHEMA, env).DATABASE_URL);
  const db = await createDb(url, { max: 2, applicationName: 'vigil-cli' });
  try {
    await checkDatabase(db, url);
    await work(db);
  } finally {
    await db.destroy();
  }
}

/** What a command does with the database, once its command line has been read. */
type DbWork = (db: Kysely<Database>) => Promise<void>;

/** `vigil migrate [--down]`. */
function migrateCommand(args: string[], out: Out): DbWork {
  const { values } = parseArgs({ args, options: { down: { type: 'boolean' } }, strict: true });
  return async (db) => {
    const names = values.down ? await migrateDown(db) : await migrateToLatest(db);
    out(names.length ? `${values.down ? 'reverted' : 'applied'}: ${names.join(', ')}\n` : 'schema is up to date\n');
  };
}

/** `vigil targets list|add|remove`: reads the command line (throwing UsageError), returns the database work. */
function targetsCommand(sub: string, rest: string[], out: Out): DbWork {
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const targets = await listTargets(db);
      if (values.json) {
        out(
          `${JSON.stringify(
            targets.map((t) => ({ ...t, url: maskUrl(t.url) })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      if (targets.length === 0) {
        out(`no targets; add one with: ${VIGIL} targets add NAME URL\n`);
        return;
      }
      printTable(
        ['NAME', 'STATE', 'INTERVAL', 'TIMEOUT', 'URL'],
        targets.map((t) => [t.name, t.state, `${t.interval_seconds}s`, `${t.timeout_seconds}s`, maskUrl(t.url)]),
        out,
      );
    };
  }
  if (sub === 'add') {
    const usage = `usage: ${VIGIL} targets add NAME URL [--interval 15s] [--timeout 10s] [--label key=value]`;
    const { values, positionals } = parseArgs({
      args: rest,
      options: { interval: { type: 'string' }, timeout: { type: 'string' }, label: { type: 'string', multiple: true } },
      allowPositionals: true,
      strict: true,
    });
    const [name, url] = positionals;
    if (!name || !url || positionals.length > 2) throw new UsageError(usage);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name))
      throw new UsageError(`target name "${name}" must be letters, digits, dot, dash or underscore (at most 63)`);
    const { minIntervalSeconds: minI, maxIntervalSeconds: maxI, minTimeoutSeconds: minT } = LIMITS;
    const interval = values.interval === undefined ? 15 : parseDuration(values.interval);
    if (interval === null || !Number.isInteger(interval) || interval < minI || interval > maxI) {
      throw new UsageError(`--interval "${values.interval}" must be whole seconds from ${minI} s to ${maxI / 3600} h (e.g. 15s, 1m)`);
    }
    const timeout = values.timeout === undefined ? Math.min(10, interval) : parseDuration(values.timeout);
    if (timeout === null || timeout < minT || timeout > interval) {
      throw new UsageError(`--timeout "${values.timeout}" must be a duration from ${minT * 1000} ms to the interval (${interval}s)`);
    }
    const labels: Record<string, string> = {};
    for (const l of values.label ?? []) {
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(l);
      if (!m) throw new UsageError(`--label "${l}" must be key=value with a Prometheus label name as key`);
      labels[m[1]!] = m[2]!;
    }
    const checkedUrl = checkTargetUrl(url);
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      try {
        const t = await addTarget(db, {
          name,
          url: checkedUrl,
          interval_seconds: interval,
          timeout_seconds: timeout,
          labels,
          source: 'cli',
        });
        out(`added ${t.name} (${maskUrl(t.url)}, every ${t.interval_seconds}s)\n`);
      } catch (e) {
        if (e instanceof TargetExistsError) throw new UsageError(e.message);
        throw e;
      }
    };
  }
  const name = rest[0];
  if (!name || rest.length > 1) throw new UsageError(`usage: ${VIGIL} targets remove NAME`);
  return async (db) => {
    await requireCurrentSchema(db, `${VIGIL} migrate`);
    if (!(await removeTarget(db, name))) throw new UsageError(`no target named "${name}"; see ${VIGIL} targets list`);
    out(`removed ${name}\n`);
  };
}

/** Prints rows under a header in columns two spaces apart, as `docker ps` does. */
function printTable(header: string[], rows: string[][], out: Out): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows])
    out(
      `${r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** `vigil channels list|add|remove`: reads the command line (throwing UsageError), returns the database work. */
function channelsCommand(sub: string, rest: string[], out: Out): DbWork {
  if (sub === 'list') {
    if (rest.length) throw new UsageError(`usage: ${VIGIL} channels list`);
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const channels = await listChannels(db);
      if (channels.length === 0) {
        out(`no channels; add one with: ${VIGIL} channels add NAME --webhook URL\n`);
        return;
      }
      // A webhook's path is its credential (Slack's /services/T…/B…/secret): shown as host only.
      printTable(
        ['NAME', 'KIND', 'ENABLED', 'URL'],
        channels.map((c) => [c.name, c.kind, c.enabled ? 'yes' : 'no', maskChannelUrl(c.kind, c.url)]),
        out,
      );
    };
  }
  if (sub === 'add') {
    const usage = `usage: ${VIGIL} channels add NAME (--webhook URL | --slack URL | --alertmanager URL)`;
    const { values, positionals } = parseArgs({
      args: rest,
      options: { webhook: { type: 'string' }, slack: { type: 'string' }, alertmanager: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const kinds = (['webhook', 'slack', 'alertmanager'] as const).filter((k) => values[k] !== undefined);
    if (positionals.length !== 1 || kinds.length !== 1) throw new UsageError(usage);
    const kind = kinds[0]!;
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      try {
        const c = await addChannel(db, { name: positionals[0]!, kind, url: values[kind]! });
        out(`added ${c.name} (${c.kind} ${maskChannelUrl(c.kind, c.url)}); it gets the down and recovery events from now on\n`);
      } catch (e) {
        if (e instanceof ChannelError) throw new UsageError(e.message);
        throw e;
      }
    };
  }
  const name = rest[0];
  if (!name || rest.length > 1) throw new UsageError(`usage: ${VIGIL} channels remove NAME`);
  return async (db) => {
    await requireCurrentSchema(db, `${VIGIL} migrate`);
    if (!(await removeChannel(db, name))) throw new UsageError(`no channel named "${name}"; see ${VIGIL} channels list`);
    out(`removed ${name}\n`);
  };
}

/** `vigil users list|create|set-role|reset-password|remove`: reads the command line (throwing UsageError), returns the database work. */
function usersCommand(sub: string, rest: string[], out: Out, password: PasswordSource): DbWork {
  const { values, positionals } = parseArgs({
    args: rest,
    options: { role: { type: 'string' }, 'generate-password': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const usage = SUBCOMMANDS.users!;
  const wants = (n: number, options: string[] = []) => {
    const extra = Object.keys(values).filter((k) => !options.includes(k));
    if (positionals.length !== n || extra.length > 0) throw new UsageError(usage);
  };
  const [name, role] = positionals as [string, string];
  // AccountError says what was wrong (a taken name, a short password, the last admin): a usage mistake.
  const asUsage = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (e) {
      if (e instanceof AccountError) throw new UsageError(e.message);
      throw e;
    }
  };
  const newPassword = async (): Promise<{ value: string; generated: boolean }> =>
    values['generate-password']
      ? { value: generatePassword(), generated: true }
      : { value: await password(`password for ${name} (at least ${MIN_PASSWORD_LENGTH} characters)`), generated: false };
  const shown = (u: Account) => ({ name: u.name, role: u.role });
  if (sub === 'list') {
    wants(0);
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const users = await listUsers(db);
      if (users.length === 0) {
        out(`no users; add one with: ${VIGIL} users create NAME --role admin\n`);
        return;
      }
      printTable(
        ['NAME', 'ROLE', 'CREATED', 'PASSWORD CHANGED'],
        users.map((u) => [u.name, u.role, u.created_at.toISOString().slice(0, 16), u.password_changed_at.toISOString().slice(0, 16)]),
        out,
      );
    };
  }
  if (sub === 'create') {
    wants(1, ['role', 'generate-password']);
    if (!values.role) throw new UsageError(`${VIGIL} users create needs --role (admin, operator, developer or viewer)`);
    return (db) =>
      asUsage(async () => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const pw = await newPassword();
        const user = await createUser(db, { name, role: values.role!, password: pw.value });
        await writeAudit(db, { user: null, action: 'user.create', objectType: 'user', objectId: user.id, after: shown(user) });
        out(`created ${user.name} (${user.role})\n`);
        if (pw.generated) out(`password: ${pw.value}\n(shown this once; it can be changed on the account page)\n`);
      });
  }
  if (sub === 'set-role') {
    wants(2);
    return (db) =>
      asUsage(async () => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const { before, after } = await setRole(db, name, role);
        await writeAudit(db, {
          user: null,
          action: 'user.set_role',
          objectType: 'user',
          objectId: after.id,
          before: shown(before),
          after: shown(after),
        });
        out(`${after.name} is now ${after.role} (was ${before.role})\n`);
      });
  }
  if (sub === 'reset-password') {
    wants(1, ['generate-password']);
    return (db) =>
      asUsage(async () => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const pw = await newPassword();
        const user = await setPassword(db, name, pw.value);
        await writeAudit(db, { user: null, action: 'user.reset_password', objectType: 'user', objectId: user.id });
        out(`new password set for ${user.name}; their sessions were ended\n`);
        if (pw.generated) out(`password: ${pw.value}\n(shown this once)\n`);
      });
  }
  wants(1);
  return (db) =>
    asUsage(async () => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const user = await removeUser(db, name);
      await writeAudit(db, { user: null, action: 'user.remove', objectType: 'user', objectId: user.id, before: shown(user) });
      out(`removed ${user.name}\n`);
    });
}

/** Prints a failure the way a user wants it: the message, no stack, for known errors. */
export function describeFailure(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof DatabaseUrlError) return { message: err.message, code: 2 };
  if (err instanceof DatabaseUnreachableError || err instanceof SchemaBehindError) return { message: err.message, code: 1 };
  const code = (err as { code?: string }).code;
  if (
    code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
    code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' ||
    code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
  ) {
    return { message: `${(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')}; see ${VIGIL} --help`, code: 2 };
  }
  return { message: (err as Error)?.message ?? String(err), code: 1 };
}
