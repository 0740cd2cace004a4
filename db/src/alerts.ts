/**
 * Alerts beyond liveness, in the database: rules (`alert_rules`), alerts from
 * pending to resolved (`alerts`), silences and maintenance windows
 * (`silences`). The notification side (groups, sends) is in alert-groups.ts.
 */
import {
  type AlertChange,
  type AlertRuleInput,
  type AlertRuleSpec,
  alertLabels,
  alertRuleSchema,
  DEFAULT_RULES,
  matches,
  type OpenAlert,
  parseMatchers,
  silenceActive,
  silenceProblem,
  targetLabels,
} from '@vigil/core/alerts';
import { type Kysely, sql } from 'kysely';
import type { Alert, AlertRuleRow, AlertState, Database, Silence } from './database.js';

/** Thrown for a rule or silence that cannot be saved or found; `field` names what was wrong. */
export class AlertRuleError extends Error {
  override name = 'AlertRuleError';
  constructor(
    message: string,
    readonly code: 'invalid' | 'exists' | 'missing' = 'invalid',
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A rule as stored, its spec read. */
export type AlertRule = AlertRuleRow;

/**
 * Checks a rule's definition with core's alertRuleSchema.
 * @throws AlertRuleError naming the first field that is wrong and why
 */
export function parseAlertRule(input: unknown): AlertRuleSpec {
  const r = alertRuleSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || 'kind';
  const message =
    issue.code === 'invalid_union' && field === 'kind'
      ? 'kind must be one of threshold, disk_full, container, probe, certificate'
      : issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}${issue.path.length ? ` in ${field}` : ''}`
        : issue.message;
  throw new AlertRuleError(`${field}: ${message}`, 'invalid', field);
}

/** Every rule, by name. */
export async function listAlertRules(db: Kysely<Database>): Promise<AlertRule[]> {
  return db.selectFrom('alert_rules').selectAll().orderBy('name').execute();
}

/** One rule by id, or null. */
export async function getAlertRule(db: Kysely<Database>, id: number): Promise<AlertRule | null> {
  return (await db.selectFrom('alert_rules').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

/** How many targets a rule's selector picks today; a rule that picks none is saved with a warning. */
async function selectedCount(db: Kysely<Database>, spec: AlertRuleSpec): Promise<number> {
  const ms = parseMatchers(spec.selector);
  const targets = await db.selectFrom('targets').select(['name', 'labels']).execute();
  return targets.filter((t) => matches(ms, targetLabels(t.name, t.labels))).length;
}

/** A saved rule, and a warning when its selector matches no target today. */
export interface SavedRule {
  rule: AlertRule;
  warning: string | null;
}

const warningOf = (n: number, spec: AlertRuleSpec) =>
  n === 0 ? `the selector "${spec.selector}" matches no host today: the rule is saved and applies to hosts that match later` : null;

/**
 * Adds a rule after checking it ({@link parseAlertRule}).
 * @throws AlertRuleError when it is invalid (naming the field) or its name is taken
 */
export async function addAlertRule(db: Kysely<Database>, input: unknown): Promise<SavedRule> {
  const spec = parseAlertRule(input);
  const rule = await db
    .insertInto('alert_rules')
    .values({ name: spec.name, spec: JSON.stringify(spec) })
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!rule) throw new AlertRuleError(`a rule named "${spec.name}" exists: change it, or pick another name`, 'exists', 'name');
  return { rule, warning: warningOf(await selectedCount(db, spec), spec) };
}

/**
 * Replaces a rule's definition (its alerts stay: a condition that no longer
 * holds resolves them at the next heartbeat). Null when there is no such rule.
 * @throws AlertRuleError when it is invalid or the new name is another rule's
 */
export async function updateAlertRule(db: Kysely<Database>, id: number, input: unknown): Promise<SavedRule | null> {
  const spec = parseAlertRule(input);
  const other = await db.selectFrom('alert_rules').select('id').where('name', '=', spec.name).where('id', '<>', id).executeTakeFirst();
  if (other) throw new AlertRuleError(`a rule named "${spec.name}" exists: pick another name`, 'exists', 'name');
  const rule = await db
    .updateTable('alert_rules')
    .set({ name: spec.name, spec: JSON.stringify(spec), updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return rule ? { rule, warning: warningOf(await selectedCount(db, spec), spec) } : null;
}

/** Removes a rule with its alerts and their history. @returns it, or null when there was none */
export async function removeAlertRule(db: Kysely<Database>, id: number): Promise<AlertRule | null> {
  return (await db.deleteFrom('alert_rules').where('id', '=', id).returningAll().executeTakeFirst()) ?? null;
}

/** Adds core's DEFAULT_RULES that are missing by name (a fresh installation's fleet defaults). @returns how many it added */
export async function seedDefaultAlertRules(db: Kysely<Database>, rules: readonly AlertRuleInput[] = DEFAULT_RULES): Promise<number> {
  const r = await db
    .insertInto('alert_rules')
    .values(rules.map((input) => ({ name: input.name, spec: JSON.stringify(parseAlertRule(input)) })))
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n);
}

/** The open (pending or firing) alerts of some targets, by target id, with their ids. */
export async function openAlerts(db: Kysely<Database>, targetIds: readonly number[]): Promise<Map<number, (OpenAlert & { id: number })[]>> {
  const out = new Map<number, (OpenAlert & { id: number })[]>();
  if (targetIds.length === 0) return out;
  const rows = await db
    .selectFrom('alerts')
    .select(['id', 'rule_id', 'target_id', 'subject', 'state', 'started_at'])
    .where('state', '<>', 'resolved')
    .where('target_id', 'in', [...targetIds])
    .execute();
  for (const r of rows) {
    const list = out.get(r.target_id) ?? [];
    list.push({
      id: Number(r.id),
      ruleId: r.rule_id,
      subject: r.subject,
      state: r.state as 'pending' | 'firing',
      startedAt: r.started_at.getTime() / 1000,
    });
    out.set(r.target_id, list);
  }
  return out;
}

/** One change to write: what changed, for which target, under which rule. */
export interface AlertWrite {
  target: { id: number; name: string; labels: Record<string, string> };
  ruleName: string;
  change: AlertChange;
  /** When it was seen (the heartbeat's time). */
  at: Date;
}

/**
 * Writes a pass's alert changes in one transaction: a new pending or firing
 * alert is inserted (skipped when another writer opened the same one first),
 * a pending one that fires is updated, a fired one that resolves is kept as
 * history, and a pending one whose condition went is deleted.
 * @returns how many rows changed
 */
export async function applyAlertChanges(db: Kysely<Database>, writes: readonly AlertWrite[]): Promise<number> {
  if (writes.length === 0) return 0;
  let n = 0;
  await db.transaction().execute(async (tx) => {
    for (const w of writes) {
      const c = w.change;
      if (c.to === 'pending' || c.to === 'firing') {
        const cond = c.condition;
        const open = tx
          .updateTable('alerts')
          .where('rule_id', '=', cond.ruleId)
          .where('target_id', '=', w.target.id)
          .where('subject', '=', cond.subject)
          .where('state', '=', 'pending');
        const promoted =
          c.to === 'firing'
            ? await open
                .set({ state: 'firing', fired_at: w.at, summary: cond.summary, value: cond.value, updated_at: sql<Date>`now()` })
                .executeTakeFirst()
            : { numUpdatedRows: 0n };
        if (promoted.numUpdatedRows > 0n) {
          n++;
          continue;
        }
        const r = await tx
          .insertInto('alerts')
          .values({
            rule_id: cond.ruleId,
            target_id: w.target.id,
            subject: cond.subject,
            state: c.to,
            severity: cond.severity,
            summary: cond.summary,
            value: cond.value,
            labels: JSON.stringify(alertLabels(w.ruleName, cond.severity, w.target, cond.subject)),
            started_at: new Date(c.startedAt * 1000),
            fired_at: c.to === 'firing' ? w.at : null,
          })
          .onConflict((oc) => oc.expression(sql`rule_id, target_id, subject`).where('state', '<>', 'resolved').doNothing())
          .executeTakeFirst();
        n += Number(r.numInsertedOrUpdatedRows ?? 0n);
      } else {
        const gone = c as Extract<AlertChange, { to: 'resolved' | 'cleared' }>;
        const q = { rule: gone.ruleId, target: w.target.id, subject: gone.subject };
        const r =
          c.to === 'resolved'
            ? await tx
                .updateTable('alerts')
                .set({ state: 'resolved', resolved_at: w.at, updated_at: sql<Date>`now()` })
                .where('rule_id', '=', q.rule)
                .where('target_id', '=', q.target)
                .where('subject', '=', q.subject)
                .where('state', '=', 'firing')
                .executeTakeFirst()
            : await tx
                .deleteFrom('alerts')
                .where('rule_id', '=', q.rule)
                .where('target_id', '=', q.target)
                .where('subject', '=', q.subject)
                .where('state', '=', 'pending')
                .executeTakeFirst();
        n += Number('numUpdatedRows' in r ? r.numUpdatedRows : r.numDeletedRows);
      }
    }
  });
  return n;
}

/** An alert as pages and the API list it: with its rule's and target's names. */
export type AlertListed = Alert & { rule_name: string; target_name: string };

/** Which alerts to list: `open` (pending and firing), one state, or all; of one target or rule. */
export interface AlertQuery {
  state?: AlertState | 'open' | 'all';
  targetId?: number;
  ruleId?: number;
  /** Only those held back: `inhibited` or `silenced`. */
  held?: 'inhibited' | 'silenced';
  limit?: number;
  offset?: number;
}

/** Alerts, newest first (open ones before history when listing all), with the total. */
export async function listAlerts(db: Kysely<Database>, q: AlertQuery = {}): Promise<{ rows: AlertListed[]; total: number }> {
  let base = db
    .selectFrom('alerts as a')
    .innerJoin('alert_rules as r', 'r.id', 'a.rule_id')
    .innerJoin('targets as t', 't.id', 'a.target_id');
  const state = q.state ?? 'open';
  if (state === 'open') base = base.where('a.state', '<>', 'resolved');
  else if (state !== 'all') base = base.where('a.state', '=', state);
  if (q.targetId !== undefined) base = base.where('a.target_id', '=', q.targetId);
  if (q.ruleId !== undefined) base = base.where('a.rule_id', '=', q.ruleId);
  if (q.held === 'inhibited') base = base.where('a.inhibited', '=', true);
  if (q.held === 'silenced') base = base.where('a.silenced_by', 'is not', null);
  const [rows, total] = await Promise.all([
    base
      .selectAll('a')
      .select(['r.name as rule_name', 't.name as target_name'])
      .orderBy(sql`a.state = 'resolved'`)
      .orderBy('a.started_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(q.limit ?? 100)
      .offset(q.offset ?? 0)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map((r) => ({ ...r, id: Number(r.id) })), total: Number(total.n) };
}

/** One alert by id with its rule's and target's names, or null. */
export async function getAlert(db: Kysely<Database>, id: number): Promise<AlertListed | null> {
  const r = await db
    .selectFrom('alerts as a')
    .innerJoin('alert_rules as r', 'r.id', 'a.rule_id')
    .innerJoin('targets as t', 't.id', 'a.target_id')
    .selectAll('a')
    .select(['r.name as rule_name', 't.name as target_name'])
    .where('a.id', '=', id)
    .executeTakeFirst();
  return r ? { ...r, id: Number(r.id) } : null;
}

/**
 * Each target's root filesystem free space (`heartbeats.disk_avail_bytes`)
 * since `since`, averaged per `stepSeconds` bin (UTC boundaries), oldest
 * first, Unix seconds at each bin's start: what a disk prediction fits on,
 * read once when the scraper takes a target (after a restart, or from another
 * replica) rather than waiting for a window of new heartbeats.
 */
export async function diskHistory(
  db: Kysely<Database>,
  targetIds: readonly number[],
  since: Date,
  stepSeconds: number,
): Promise<Map<number, { t: number; avail: number }[]>> {
  const out = new Map<number, { t: number; avail: number }[]>();
  if (targetIds.length === 0) return out;
  const bin = sql<Date>`date_bin(make_interval(secs => ${stepSeconds}), time, timestamptz '2000-01-01 00:00:00+00')`;
  const rows = await db
    .selectFrom('heartbeats')
    .select(['target_id', bin.as('bin'), sql<number>`avg(disk_avail_bytes)::float8`.as('avail')])
    .where('target_id', 'in', [...targetIds])
    .where('time', '>=', since)
    .where('up', '=', true)
    .where('disk_avail_bytes', 'is not', null)
    .groupBy(['target_id', 'bin'])
    .orderBy('target_id')
    .orderBy('bin')
    .execute();
  for (const r of rows) {
    const list = out.get(r.target_id) ?? [];
    list.push({ t: new Date(r.bin).getTime() / 1000, avail: r.avail });
    out.set(r.target_id, list);
  }
  return out;
}

/** A silence to add: matchers, its span, and for a maintenance window a cron schedule and a duration. */
export interface SilenceInput {
  matchers: string;
  startsAt: Date;
  endsAt: Date;
  schedule?: string | null;
  durationSeconds?: number | null;
  createdBy: string;
  comment?: string;
}

/**
 * Adds a silence after checking it (core's silenceProblem).
 * @throws AlertRuleError naming the field that is wrong
 */
export async function addSilence(db: Kysely<Database>, s: SilenceInput): Promise<Silence> {
  const problem = silenceProblem(s);
  if (problem) throw new AlertRuleError(problem.message, 'invalid', problem.field);
  if ((s.comment ?? '').length > 500) throw new AlertRuleError('comment: at most 500 characters', 'invalid', 'comment');
  return db
    .insertInto('silences')
    .values({
      matchers: s.matchers.trim(),
      starts_at: s.startsAt,
      ends_at: s.endsAt,
      schedule: s.schedule || null,
      duration_seconds: s.schedule ? (s.durationSeconds ?? null) : null,
      created_by: s.createdBy,
      comment: s.comment ?? '',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Silences not yet over at `now` (a window's whole span), or all of them, newest first. */
export async function listSilences(db: Kysely<Database>, opts: { all?: boolean; now?: Date } = {}): Promise<Silence[]> {
  let q = db.selectFrom('silences').selectAll();
  if (!opts.all) q = q.where('ends_at', '>', opts.now ?? sql<Date>`now()`);
  return q.orderBy('id', 'desc').limit(500).execute();
}

/** Ends a silence now (kept, for its history). @returns it, or null when there is none or it was over */
export async function expireSilence(db: Kysely<Database>, id: number, now: Date = new Date()): Promise<Silence | null> {
  return (
    (await db
      .updateTable('silences')
      .set({ ends_at: now })
      .where('id', '=', id)
      .where('ends_at', '>', now)
      .returningAll()
      .executeTakeFirst()) ?? null
  );
}

/** The silences holding at `now` (one-off within their span; windows within one of their occurrences). */
export async function activeSilences(db: Kysely<Database>, now: Date): Promise<Silence[]> {
  const rows = await db.selectFrom('silences').selectAll().where('starts_at', '<=', now).where('ends_at', '>', now).execute();
  return rows.filter((s) =>
    silenceActive(
      { matchers: s.matchers, startsAt: s.starts_at, endsAt: s.ends_at, schedule: s.schedule, durationSeconds: s.duration_seconds },
      now,
    ),
  );
}
