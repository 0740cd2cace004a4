import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '@vigil/core/config';
import {
  AlertRuleError,
  addAlertRule,
  addSilence,
  expireSilence,
  listAlertRules,
  listAlerts,
  listSilences,
  removeAlertRule,
  requireCurrentSchema,
  seedDefaultAlertRules,
  writeAudit,
} from '@vigil/db';
import { type DbWork, type Out, printTable, SUBCOMMANDS, UsageError, VIGIL } from './shared.js';

const ALERTS_USAGE = SUBCOMMANDS.alerts!;

export const ALERTS_SUBCOMMANDS = ['list', 'rules', 'add-rule', 'remove-rule', 'defaults', 'silences', 'silence', 'expire'];

const duration = (v: string | undefined, what: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const s = parseDuration(v);
  if (s === null || s <= 0) throw new UsageError(`${what} "${v}": give a duration such as 90s, 30m, 2h or 7d`);
  return s;
};

/** Reads a rule or silence refusal as a usage error (its field named), anything else as it is. */
async function refused<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof AlertRuleError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * `vigil alerts …`: reads the command line (throwing UsageError), returns the
 * database work. Changes are audited as made by `cli (<os user>)`.
 * @param stdin reads standard input whole (for `add-rule -`)
 */
export function alertsCommand(sub: string, rest: string[], out: Out, stdin: () => string = () => readFileSync(0, 'utf8')): DbWork {
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      all: { type: 'boolean' },
      for: { type: 'string' },
      schedule: { type: 'string' },
      window: { type: 'string' },
      comment: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const arity = (n: number) => {
    if (positionals.length !== n) throw new UsageError(ALERTS_USAGE);
  };
  switch (sub) {
    case 'list':
      arity(0);
      return async (db) => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const { rows, total } = await listAlerts(db, { state: values.all ? 'all' : 'open', limit: 500 });
        if (total === 0) return out(values.all ? 'no alerts yet\n' : 'nothing is firing or pending\n');
        printTable(
          ['ID', 'STATE', 'SEVERITY', 'RULE', 'HOST', 'SINCE', 'WHAT'],
          rows.map((a) => [
            String(a.id),
            a.state === 'firing' && a.inhibited ? 'inhibited' : a.state === 'firing' && a.silenced_by !== null ? 'silenced' : a.state,
            a.severity,
            a.rule_name,
            a.target_name,
            (a.resolved_at ?? a.fired_at ?? a.started_at).toISOString().slice(0, 19).replace('T', ' '),
            a.summary,
          ]),
          out,
        );
        if (total > rows.length) out(`(${total - rows.length} more; the console's Alerts page pages through them)\n`);
      };
    case 'rules':
      arity(0);
      return async (db) => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const rules = await listAlertRules(db);
        if (rules.length === 0) return out(`no rules; add the defaults with: ${VIGIL} alerts defaults\n`);
        printTable(
          ['NAME', 'KIND', 'SEVERITY', 'ENABLED', 'HOSTS', 'SPEC'],
          rules.map((r) => {
            const { name: _n, kind, severity, enabled, selector, ...rest } = r.spec;
            const shown = Object.entries(rest)
              .filter(([k, v]) => !(k === 'description' && v === '') && !(k === 'overrides' && (v as unknown[]).length === 0))
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
            return [r.name, kind, severity, enabled ? 'yes' : 'no', selector || 'all', shown.join(' ')];
          }),
          out,
        );
      };
    case 'add-rule': {
      arity(1);
      const source = positionals[0]!;
      return async (db) => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        let input: unknown;
        try {
          input = JSON.parse(source === '-' ? stdin() : readFileSync(source, 'utf8'));
        } catch (e) {
          throw new UsageError(`cannot read the rule from ${source === '-' ? 'stdin' : source}: ${(e as Error).message}`);
        }
        const { rule, warning } = await refused(addAlertRule(db, input));
        await writeAudit(db, { user: null, action: 'alert_rule.create', objectType: 'alert_rule', objectId: rule.id, after: rule.spec });
        out(`added the rule ${rule.name}\n`);
        if (warning) out(`warning: ${warning}\n`);
      };
    }
    case 'remove-rule':
      arity(1);
      return async (db) => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const rule = (await listAlertRules(db)).find((r) => r.name === positionals[0]);
        if (!rule) throw new UsageError(`no rule named "${positionals[0]}"; see ${VIGIL} alerts rules`);
        await removeAlertRule(db, rule.id);
        await writeAudit(db, { user: null, action: 'alert_rule.remove', objectType: 'alert_rule', objectId: rule.id, before: rule.spec });
        out(`removed the rule ${rule.name} and its alerts\n`);
      };
    case 'defaults':
      arity(0);
      return async (db) => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const n = await seedDefaultAlertRules(db);
        out(n ? `added ${n} default rules\n` : 'every default rule is there already (by name)\n');
      };
    case 'silences':
      arity(0);
      return async (db) => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const silences = await listSilences(db);
        if (silences.length === 0) return out('no silences\n');
        printTable(
          ['ID', 'MATCHERS', 'UNTIL', 'WINDOW', 'BY', 'WHY'],
          silences.map((s) => [
            String(s.id),
            s.matchers,
            s.ends_at.toISOString().slice(0, 16).replace('T', ' '),
            s.schedule ? `${s.schedule} for ${s.duration_seconds} s` : '-',
            s.created_by,
            s.comment,
          ]),
          out,
        );
      };
    case 'silence': {
      arity(1);
      const windowed = values.schedule !== undefined;
      if (windowed !== (values.window !== undefined))
        throw new UsageError('a maintenance window needs both --schedule CRON and --window DURATION');
      const span = duration(values.for, '--for', windowed ? 10 * 365 * 86_400 : 7200);
      const window = windowed ? duration(values.window, '--window', 3600) : null;
      return async (db) => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const now = new Date();
        const s = await refused(
          addSilence(db, {
            matchers: positionals[0]!,
            startsAt: now,
            endsAt: new Date(now.getTime() + span * 1000),
            schedule: values.schedule ?? null,
            durationSeconds: window,
            createdBy: `cli (${process.env.USER ?? 'unknown'})`,
            comment: values.comment ?? '',
          }),
        );
        await writeAudit(db, { user: null, action: 'silence.create', objectType: 'silence', objectId: s.id, after: s });
        out(
          `silence ${s.id}: ${s.matchers} until ${s.ends_at.toISOString()}${s.schedule ? `, during ${s.schedule} (UTC) for ${window} s each` : ''}\n`,
        );
      };
    }
    case 'expire': {
      arity(1);
      const id = Number(positionals[0]);
      if (!Number.isInteger(id) || id <= 0) throw new UsageError(`"${positionals[0]}" is not a silence id; see ${VIGIL} alerts silences`);
      return async (db) => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const s = await expireSilence(db, id);
        if (!s) throw new UsageError(`no live silence ${id}; see ${VIGIL} alerts silences`);
        await writeAudit(db, { user: null, action: 'silence.expire', objectType: 'silence', objectId: id, after: s });
        out(`ended silence ${id} (${s.matchers})\n`);
      };
    }
    default:
      throw new UsageError(`unknown command "vigil alerts ${sub}"\n${ALERTS_USAGE}`);
  }
}
