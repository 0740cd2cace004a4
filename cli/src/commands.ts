/**
 * The `vigil` commands that only talk to the database (migrate, targets,
 * channels, users): reads the command line, opens the database, runs the
 * noun's work (one module each under commands/), and says what failed.
 */
import { ConfigError, parseEnv } from '@vigil/core/config';
import { variablesHelp } from '@vigil/core/variables';
import {
  checkDatabase,
  createDb,
  DATABASE_URL,
  DatabaseUnreachableError,
  DatabaseUrlError,
  resolveDatabaseUrl,
  SchemaBehindError,
} from '@vigil/db';
import * as z from 'zod/mini';
import { ALERTS_SUBCOMMANDS, alertsCommand } from './commands/alerts.js';
import { channelsCommand } from './commands/channels.js';
import { enrolTokensCommand } from './commands/enrol-tokens.js';
import { migrateCommand } from './commands/migrate.js';
import { type Out, type PasswordSource, SUBCOMMANDS, UsageError, VIGIL } from './commands/shared.js';
import { targetsCommand } from './commands/targets.js';
import { usersCommand } from './commands/users.js';
import { START_VARIABLE_DOCS } from './start.js';

export { type PasswordSource, UsageError, VIGIL } from './commands/shared.js';
export { checkTargetUrl } from './commands/targets.js';

/** DATABASE_URL, which the database commands and every program read. */
const DATABASE_URL_DOC = {
  meaning:
    'postgres://user@host:5432/db, pglite://<dir>, or unset for embedded PGlite in .vigil/pgdata (a running `vigil start` serves it)',
};

/** What the database commands read from the environment. */
const DATABASE_SCHEMA = z.object({ DATABASE_URL });

export const HELP = `vigil — watch a fleet of Linux hosts

Usage (from a checkout, after npm install; \`npm start\` is \`${VIGIL} start\`):
  ${VIGIL} start                   run exporter, scraper and console on this machine
                                    (embedded database in .vigil/pgdata when DATABASE_URL is unset)
  ${VIGIL} exporter [--help]       run the exporter alone (one per host)
  ${VIGIL} scraper [--help]        run the scraper alone
  ${VIGIL} console [--help]        run the console alone
  ${VIGIL} migrate [--down]        bring the database schema up to date (or revert the last migration)
  ${VIGIL} targets list [--json]   list targets with their state
  ${VIGIL} targets add NAME URL [--interval 15s] [--timeout 10s] [--label key=value ...] [--token-file FILE]
                                    add a target; URL is the exporter's metrics URL,
                                    e.g. http://pi-1.lan:9110/metrics
  ${VIGIL} targets remove NAME     remove a target with its heartbeats and events
  ${VIGIL} targets approve|reject NAME
                                    let in (or remove) a host waiting for approval
  ${VIGIL} enrol-tokens add NAME [--max-uses N] [--expires 24h] [--label k=v ...] [--approval]
                                    a token new hosts enrol with (VIGIL_ENROL_TOKEN), printed once
  ${VIGIL} enrol-tokens list|revoke NAME
  ${VIGIL} channels list           list notification channels (URLs masked)
  ${VIGIL} channels add NAME --KIND URL [--matchers M] [--min-severity S] [--group-by LABELS]
                                    send every target's down and recovery events there, and
                                    the alerts matching M: KIND is webhook (JSON), slack,
                                    alertmanager (its base URL, e.g. http://am.lan:9093),
                                    discord, teams, ntfy, gotify, pushover, telegram or
                                    email (smtp://user:pw@host:587?from=a@b&to=c@d)
  ${VIGIL} channels set NAME [--matchers M] [--min-severity S] [--group-by L] [--group-wait 30s]
                    [--group-interval 5m] [--repeat-interval 4h] [--enable | --disable]
                                    change which alerts a channel gets and how they are grouped
  ${VIGIL} channels remove NAME    stop sending to a channel
  ${VIGIL} alerts list [--all]     open alerts (--all: with the resolved ones)
  ${VIGIL} alerts rules            the alert rules; add-rule FILE|-, remove-rule NAME, defaults
  ${VIGIL} alerts silence MATCHERS [--for 2h] [--schedule CRON --window 1h] [--comment TEXT]
                                    hold back the alerts whose labels match (rack=a,alertname=HostHot);
                                    with --schedule, a recurring maintenance window (cron, UTC)
  ${VIGIL} alerts silences         live silences; alerts expire ID ends one now
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

Environment (vigil start; each program reads its own, and its --help lists them all:
\`${VIGIL} exporter --help\`, \`${VIGIL} scraper --help\`, \`${VIGIL} console --help\`):
${variablesHelp({ DATABASE_URL: DATABASE_URL_DOC, ...START_VARIABLE_DOCS })}`;

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
  if (cmd === 'targets' && !['list', 'add', 'remove', 'approve', 'reject'].includes(sub!))
    throw new UsageError(`unknown command "vigil targets ${sub}"\n${SUBCOMMANDS.targets}`);
  if (cmd === 'enrol-tokens' && !['list', 'add', 'revoke'].includes(sub!))
    throw new UsageError(`unknown command "vigil enrol-tokens ${sub}"\n${SUBCOMMANDS['enrol-tokens']}`);
  if (cmd === 'channels' && !['list', 'add', 'set', 'remove'].includes(sub!))
    throw new UsageError(`unknown command "vigil channels ${sub}"\n${SUBCOMMANDS.channels}`);
  if (cmd === 'alerts' && !ALERTS_SUBCOMMANDS.includes(sub!))
    throw new UsageError(`unknown command "vigil alerts ${sub}"\n${SUBCOMMANDS.alerts}`);
  if (cmd === 'users' && !['list', 'create', 'set-role', 'reset-password', 'remove'].includes(sub!))
    throw new UsageError(`unknown command "vigil users ${sub}"\n${SUBCOMMANDS.users}`);
  const work =
    cmd === 'migrate'
      ? migrateCommand(argv.slice(1), out)
      : cmd === 'alerts'
        ? alertsCommand(sub!, rest, out)
        : cmd === 'enrol-tokens'
          ? enrolTokensCommand(sub!, rest, out)
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
