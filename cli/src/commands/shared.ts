/** What every `vigil` command shares: its name as typed, usage errors, the database work a command returns, tables. */
import type { Database } from '@vigil/db';
import type { Kysely } from 'kysely';

/** How the CLI is run from a checkout; every hint it prints starts with it. */
export const VIGIL = 'npx vigil';

/** The subcommands of \`vigil targets\`, \`vigil channels\` and \`vigil users\`, listed when one is given alone. */
export const SUBCOMMANDS: Record<string, string> = {
  alerts: `usage: ${VIGIL} alerts list [--all]
       ${VIGIL} alerts rules
       ${VIGIL} alerts add-rule FILE|-       (a rule as JSON; - reads stdin)
       ${VIGIL} alerts remove-rule NAME
       ${VIGIL} alerts defaults            (adds the default rules that are missing)
       ${VIGIL} alerts silences
       ${VIGIL} alerts silence MATCHERS [--for 2h] [--schedule CRON --window 1h] [--comment TEXT]
       ${VIGIL} alerts expire ID`,
  targets: `usage: ${VIGIL} targets list [--json]
       ${VIGIL} targets add NAME URL [--interval 15s] [--timeout 10s] [--label key=value ...] [--token-file FILE]
       ${VIGIL} targets remove NAME
       ${VIGIL} targets approve NAME      (a host enrolled with a token requiring approval)
       ${VIGIL} targets reject NAME`,
  'enrol-tokens': `usage: ${VIGIL} enrol-tokens list [--json]
       ${VIGIL} enrol-tokens add NAME [--max-uses N] [--expires 24h] [--label key=value ...] [--approval]
       ${VIGIL} enrol-tokens revoke NAME|ID`,
  channels: `usage: ${VIGIL} channels list
       ${VIGIL} channels add NAME --KIND URL [--matchers M] [--min-severity S] [--group-by LABELS]
         (KIND: webhook, slack, alertmanager, discord, teams, ntfy, gotify, pushover, telegram, email)
       ${VIGIL} channels set NAME [--matchers M] [--min-severity S] [--group-by LABELS] [--group-wait 30s] [--group-interval 5m] [--repeat-interval 4h] [--enable | --disable]
       ${VIGIL} channels remove NAME`,
  users: `usage: ${VIGIL} users list
       ${VIGIL} users create NAME --role admin|operator|developer|viewer [--generate-password]
       ${VIGIL} users set-role NAME ROLE
       ${VIGIL} users reset-password NAME [--generate-password]
       ${VIGIL} users remove NAME`,
};

/** A user mistake on the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Out = (s: string) => void;

/** Where a command gets a password it must not take from argv (see password.ts). */
export type PasswordSource = (prompt: string) => Promise<string>;

/** What a command does with the database, once its command line has been read. */
export type DbWork = (db: Kysely<Database>) => Promise<void>;

/** Prints rows under a header in columns two spaces apart, as `docker ps` does. */
export function printTable(header: string[], rows: string[][], out: Out): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows])
    out(
      `${r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}
