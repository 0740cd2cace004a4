import { parseArgs } from 'node:util';
import { addChannel, addTarget, ChannelError, createDb, type Database, DatabaseUrlError, listChannels, listTargets, migrateDown, migrateToLatest, removeChannel, removeTarget, resolveDatabaseUrl, TargetExistsError } from '@vigil/db';
import type { Kysely } from 'kysely';
import { ConfigError, parseDuration } from '@vigil/exporter';

export const HELP = `vigil — watch a fleet of Linux hosts

Usage:
  vigil start                       run exporter, scraper and console on this machine
                                    (embedded database in .vigil/pgdata when DATABASE_URL is unset)
  vigil scraper                     run the scraper alone
  vigil exporter                    run the exporter alone (see vigil-exporter --help)
  vigil migrate [--down]            bring the database schema up to date (or revert the last migration)
  vigil targets list [--json]       list targets with their state
  vigil targets add NAME URL [--interval 15s] [--timeout 10s] [--label key=value ...]
                                    add a target; URL is the exporter's metrics URL,
                                    e.g. http://pi-1.lan:9110/metrics
  vigil targets remove NAME         remove a target with its heartbeats and events
  vigil channels list               list notification channels
  vigil channels add NAME (--webhook URL | --slack URL | --alertmanager URL)
                                    send every target's down and recovery events there:
                                    a JSON webhook, a Slack-compatible incoming webhook,
                                    or an Alertmanager (its base URL, e.g. http://am.lan:9093)
  vigil channels remove NAME        stop sending to a channel
  vigil --help                      this text

Environment:
  DATABASE_URL                      postgres://user@host:5432/db, pglite://<dir>, or unset for embedded PGlite
  VIGIL_EXPORTER_TOKEN              bearer token the scraper sends and exporters require (16+ characters)
  VIGIL_EXPORTER_LISTEN             exporter address (default 127.0.0.1:9110)
  VIGIL_SCRAPER_LISTEN              scraper's /metrics and /sd (default 127.0.0.1:9111)
  VIGIL_CONSOLE_LISTEN              console address (default 127.0.0.1:3000)
  VIGIL_LOCAL_INTERVAL              scrape interval of this machine's own exporter under vigil start (default 15s)
  VIGIL_SCRAPE_CONCURRENCY          scrapes at once (default 64)
  VIGIL_DOWN_AFTER_INTERVALS        intervals without a successful scrape before a target is down (default 3)
  VIGIL_RETENTION_DAYS              days of heartbeats kept (default 30)
`;

/** A user mistake on the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Out = (s: string) => void;

/** Validates a target's metrics URL: http(s) with a host. */
export function checkTargetUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`"${raw}" is not a URL; give the exporter's metrics URL, e.g. http://pi-1.lan:9110/metrics`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`"${raw}" must start with http:// or https://`);
  if (u.pathname === '/') u.pathname = '/metrics';
  return u.toString();
}

/** `vigil migrate` and `vigil targets …`: the commands that only talk to the database. */
export async function runDbCommand(argv: string[], out: Out, env: Record<string, string | undefined> = process.env): Promise<void> {
  const [cmd, sub, ...rest] = argv;
  const db = await createDb(resolveDatabaseUrl(env.DATABASE_URL), { max: 2, applicationName: 'vigil-cli' });
  try {
    if (cmd === 'migrate') {
      const { values } = parseArgs({ args: argv.slice(1), options: { down: { type: 'boolean' } }, strict: true });
      const names = values.down ? await migrateDown(db) : await migrateToLatest(db);
      out(names.length ? `${values.down ? 'reverted' : 'applied'}: ${names.join(', ')}\n` : 'schema is up to date\n');
      return;
    }
    await migrateToLatest(db);
    if (cmd === 'channels') return await channelsCommand(db, sub, rest, out);
    if (sub === 'list') {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
      const targets = await listTargets(db);
      if (values.json) {
        out(`${JSON.stringify(targets, null, 2)}\n`);
        return;
      }
      if (targets.length === 0) {
        out('no targets; add one with: vigil targets add NAME URL\n');
        return;
      }
      printTable(['NAME', 'STATE', 'INTERVAL', 'TIMEOUT', 'URL'], targets.map((t) => [t.name, t.state, `${t.interval_seconds}s`, `${t.timeout_seconds}s`, t.url]), out);
      return;
    }
    if (sub === 'add') {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { interval: { type: 'string' }, timeout: { type: 'string' }, label: { type: 'string', multiple: true } },
        allowPositionals: true,
        strict: true,
      });
      const [name, url] = positionals;
      if (!name || !url || positionals.length > 2) throw new UsageError('usage: vigil targets add NAME URL [--interval 15s] [--timeout 10s] [--label key=value]');
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) throw new UsageError(`target name "${name}" must be letters, digits, dot, dash or underscore (at most 63)`);
      const interval = values.interval === undefined ? 15 : parseDuration(values.interval);
      if (interval === null || interval < 1 || !Number.isInteger(interval)) throw new UsageError(`--interval "${values.interval}" must be whole seconds, at least 1 (e.g. 15s, 1m)`);
      const timeout = values.timeout === undefined ? Math.min(10, interval) : parseDuration(values.timeout);
      if (timeout === null || timeout <= 0 || timeout > interval) throw new UsageError(`--timeout "${values.timeout}" must be a duration above 0 and at most the interval (${interval}s)`);
      const labels: Record<string, string> = {};
      for (const l of values.label ?? []) {
        const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(l);
        if (!m) throw new UsageError(`--label "${l}" must be key=value with a Prometheus label name as key`);
        labels[m[1]!] = m[2]!;
      }
      try {
        const t = await addTarget(db, { name, url: checkTargetUrl(url), interval_seconds: interval, timeout_seconds: timeout, labels, source: 'cli' });
        out(`added ${t.name} (${t.url}, every ${t.interval_seconds}s)\n`);
      } catch (e) {
        if (e instanceof TargetExistsError) throw new UsageError(e.message);
        throw e;
      }
      return;
    }
    if (sub === 'remove') {
      if (!rest[0] || rest.length > 1) throw new UsageError('usage: vigil targets remove NAME');
      if (!(await removeTarget(db, rest[0]))) throw new UsageError(`no target named "${rest[0]}"; see vigil targets list`);
      out(`removed ${rest[0]}\n`);
      return;
    }
    throw new UsageError(`unknown command "vigil ${[cmd, sub].filter(Boolean).join(" ")}"; see vigil --help`);
  } finally {
    await db.destroy();
  }
}

/** Prints rows under a header in columns two spaces apart, as `docker ps` does. */
function printTable(header: string[], rows: string[][], out: Out): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) out(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}

/** `vigil channels list|add|remove`. */
async function channelsCommand(db: Kysely<Database>, sub: string | undefined, rest: string[], out: Out): Promise<void> {
  if (sub === 'list') {
    const channels = await listChannels(db);
    if (channels.length === 0) {
      out('no channels; add one with: vigil channels add NAME --webhook URL\n');
      return;
    }
    printTable(['NAME', 'KIND', 'ENABLED', 'URL'], channels.map((c) => [c.name, c.kind, c.enabled ? 'yes' : 'no', c.url]), out);
    return;
  }
  if (sub === 'add') {
    const usage = 'usage: vigil channels add NAME (--webhook URL | --slack URL | --alertmanager URL)';
    const { values, positionals } = parseArgs({
      args: rest,
      options: { webhook: { type: 'string' }, slack: { type: 'string' }, alertmanager: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const kinds = (['webhook', 'slack', 'alertmanager'] as const).filter((k) => values[k] !== undefined);
    if (positionals.length !== 1 || kinds.length !== 1) throw new UsageError(usage);
    const kind = kinds[0]!;
    try {
      const c = await addChannel(db, { name: positionals[0]!, kind, url: values[kind]! });
      out(`added ${c.name} (${c.kind} ${c.url}); it gets the down and recovery events from now on\n`);
    } catch (e) {
      if (e instanceof ChannelError) throw new UsageError(e.message);
      throw e;
    }
    return;
  }
  if (sub === 'remove') {
    if (!rest[0] || rest.length > 1) throw new UsageError('usage: vigil channels remove NAME');
    if (!(await removeChannel(db, rest[0]))) throw new UsageError(`no channel named "${rest[0]}"; see vigil channels list`);
    out(`removed ${rest[0]}\n`);
    return;
  }
  throw new UsageError(`unknown command "vigil channels${sub ? ` ${sub}` : ''}"; see vigil --help`);
}

/** Prints a failure the way a user wants it: the message, no stack, for known errors. */
export function describeFailure(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof DatabaseUrlError) return { message: err.message, code: 2 };
  if ((err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return { message: `${(err as Error).message}; see vigil --help`, code: 2 };
  }
  return { message: (err as Error)?.message ?? String(err), code: 1 };
}
