/**
 * Alerts beyond liveness: the use cases the API, the Alerts page and the host
 * page call — rules (operator and above change them, audited), alerts with
 * their history and filters, silences and maintenance windows (operator and
 * above, audited; one from an alert in one click).
 */
import { alertRuleSchema, formatMatchers, type Matcher } from '@vigil/core/alerts';
import {
  type AlertListed,
  type AlertRule,
  addAlertRule,
  addSilence,
  expireSilence,
  getAlert,
  getAlertRule,
  listAlertRules,
  listAlerts,
  listSilences,
  removeAlertRule,
  type Silence,
  updateAlertRule,
} from '@vigil/db';
import * as z from 'zod/mini';
import { type Actor, recordAudit } from './actor';
import { pageQuery } from './api';
import { getDb } from './db';
import { notFound, validate } from './errors';

/** A rule as the API answers it. */
export interface AlertRuleView {
  id: number;
  name: string;
  spec: AlertRule['spec'];
  created_at: string;
  updated_at: string;
}

/** An alert as the API answers it. */
export interface AlertView {
  id: number;
  rule_id: number;
  rule: string;
  target_id: number;
  target: string;
  subject: string;
  state: AlertListed['state'];
  severity: string;
  summary: string;
  value: number | null;
  labels: Record<string, string>;
  started_at: string;
  fired_at: string | null;
  resolved_at: string | null;
  inhibited: boolean;
  silenced_by: number | null;
}

/** A silence as the API answers it. */
export interface SilenceView {
  id: number;
  matchers: string;
  starts_at: string;
  ends_at: string;
  schedule: string | null;
  duration_seconds: number | null;
  created_by: string;
  comment: string;
  created_at: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function ruleView(r: AlertRule): AlertRuleView {
  return { id: r.id, name: r.name, spec: r.spec, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() };
}

export function alertView(a: AlertListed): AlertView {
  return {
    id: a.id,
    rule_id: a.rule_id,
    rule: a.rule_name,
    target_id: a.target_id,
    target: a.target_name,
    subject: a.subject,
    state: a.state,
    severity: a.severity,
    summary: a.summary,
    value: a.value,
    labels: a.labels,
    started_at: a.started_at.toISOString(),
    fired_at: iso(a.fired_at),
    resolved_at: iso(a.resolved_at),
    inhibited: a.inhibited,
    silenced_by: a.silenced_by,
  };
}

export function silenceView(s: Silence): SilenceView {
  return {
    id: s.id,
    matchers: s.matchers,
    starts_at: s.starts_at.toISOString(),
    ends_at: s.ends_at.toISOString(),
    schedule: s.schedule,
    duration_seconds: s.duration_seconds,
    created_by: s.created_by,
    comment: s.comment,
    created_at: s.created_at.toISOString(),
  };
}

/** A rule's definition as the API takes it (core's alertRuleSchema: the kinds and their fields). */
export const ruleBody = alertRuleSchema as unknown as z.ZodMiniType;

/** Every rule, by name. */
export async function listRuleViews(): Promise<AlertRuleView[]> {
  return (await listAlertRules(await getDb())).map(ruleView);
}

/** One rule. @throws ApiError 404 */
export async function showRule(id: number): Promise<AlertRuleView> {
  return ruleView((await getAlertRule(await getDb(), id)) ?? notFound('alert rule', id));
}

/** Adds a rule, audited as `alert_rule.create`. @returns it, with a warning when its selector picks no host today. @throws AlertRuleError */
export async function createRule(actor: Actor, input: unknown): Promise<{ rule: AlertRuleView; warning: string | null }> {
  const saved = await addAlertRule(await getDb(), input);
  const rule = ruleView(saved.rule);
  await recordAudit(actor, 'alert_rule.create', 'alert_rule', rule.id, { after: rule });
  return { rule, warning: saved.warning };
}

/** Replaces a rule's definition, audited as `alert_rule.update`. @throws ApiError 404; AlertRuleError */
export async function changeRule(actor: Actor, id: number, input: unknown): Promise<{ rule: AlertRuleView; warning: string | null }> {
  const db = await getDb();
  const before = (await getAlertRule(db, id)) ?? notFound('alert rule', id);
  const saved = (await updateAlertRule(db, id, input)) ?? notFound('alert rule', id);
  const rule = ruleView(saved.rule);
  await recordAudit(actor, 'alert_rule.update', 'alert_rule', id, { before: ruleView(before), after: rule });
  return { rule, warning: saved.warning };
}

/** Removes a rule with its alerts, audited as `alert_rule.remove`. @throws ApiError 404 */
export async function deleteRule(actor: Actor, id: number): Promise<AlertRuleView> {
  const r = (await removeAlertRule(await getDb(), id)) ?? notFound('alert rule', id);
  const view = ruleView(r);
  await recordAudit(actor, 'alert_rule.remove', 'alert_rule', id, { before: view });
  return view;
}

/** The alerts list's filters: `state` (open: pending and firing), `target`, `rule`, `held`, and a page. */
export const alertsQuery = z.object({
  state: z.optional(z.enum(['open', 'pending', 'firing', 'resolved', 'all'])),
  target: z.optional(z.string().check(z.regex(/^\d{1,9}$/, 'expected a target id'))),
  rule: z.optional(z.string().check(z.regex(/^\d{1,9}$/, 'expected a rule id'))),
  held: z.optional(z.enum(['inhibited', 'silenced'])),
  ...pageQuery.shape,
});

/** Alerts matching the filters, open first then newest, with the total. */
export async function listAlertViews(
  q: z.infer<typeof alertsQuery>,
): Promise<{ items: AlertView[]; total: number; page: number; per_page: number }> {
  const perPage = q.per_page === undefined ? 100 : Number(q.per_page);
  const page = q.page === undefined ? 1 : Number(q.page);
  const { rows, total } = await listAlerts(await getDb(), {
    state: q.state ?? 'open',
    targetId: q.target === undefined ? undefined : Number(q.target),
    ruleId: q.rule === undefined ? undefined : Number(q.rule),
    held: q.held,
    limit: perPage,
    offset: (page - 1) * perPage,
  });
  return { items: rows.map(alertView), total, page, per_page: perPage };
}

/** One alert. @throws ApiError 404 */
export async function showAlert(id: number): Promise<AlertView> {
  return alertView((await getAlert(await getDb(), id)) ?? notFound('alert', id));
}

const isoTime = z.string().check(z.maxLength(40));

/** A new silence: matchers, and either `ends_at` or `duration_seconds` from `starts_at` (default now); a window has a cron `schedule` and lasts `window_seconds` each time. */
export const newSilence = z.strictObject({
  matchers: z.string().check(z.maxLength(1000)),
  starts_at: z.optional(isoTime),
  ends_at: z.optional(isoTime),
  duration_seconds: z.optional(z.number().check(z.int(), z.positive(), z.maximum(31_536_000 * 10))),
  schedule: z.optional(z.string().check(z.maxLength(200))),
  window_seconds: z.optional(z.number().check(z.int(), z.positive(), z.maximum(604_800))),
  comment: z.optional(z.string().check(z.maxLength(500))),
});

/**
 * Adds a silence in the actor's name, audited as `silence.create`.
 * @throws ApiError 422 naming the field; AlertRuleError for matchers, times or a schedule that cannot work
 */
export async function createSilence(actor: Actor, input: unknown, now: Date = new Date()): Promise<SilenceView> {
  const s = validate(newSilence, input);
  const startsAt = s.starts_at ? new Date(s.starts_at) : now;
  const endsAt = s.ends_at ? new Date(s.ends_at) : new Date(startsAt.getTime() + (s.duration_seconds ?? 7200) * 1000);
  const row = await addSilence(await getDb(), {
    matchers: s.matchers,
    startsAt,
    endsAt,
    schedule: s.schedule ?? null,
    durationSeconds: s.window_seconds ?? null,
    createdBy: actor.user.name,
    comment: s.comment ?? '',
  });
  const view = silenceView(row);
  await recordAudit(actor, 'silence.create', 'silence', row.id, { after: view });
  return view;
}

/** The matchers that pick one alert out: its rule, its host, and its container or probe. */
export function alertMatchers(a: Pick<AlertView, 'rule' | 'target' | 'subject'>): string {
  const ms: Matcher[] = [
    { name: 'alertname', op: '=', value: a.rule },
    { name: 'host', op: '=', value: a.target },
  ];
  const colon = a.subject.indexOf(':');
  if (colon > 0) ms.push({ name: a.subject.slice(0, colon), op: '=', value: a.subject.slice(colon + 1) });
  return formatMatchers(ms);
}

/** Silences one alert (its rule on its host, and its container or probe) for `durationSeconds`, audited. @throws ApiError 404 */
export async function silenceAlert(actor: Actor, id: number, durationSeconds: number, comment = ''): Promise<SilenceView> {
  const a = await showAlert(id);
  return createSilence(actor, {
    matchers: alertMatchers(a),
    duration_seconds: durationSeconds,
    comment: comment || `silenced from alert ${id}`,
  });
}

/** Silences not yet over (`all`: every one), newest first. */
export async function listSilenceViews(all = false): Promise<SilenceView[]> {
  return (await listSilences(await getDb(), { all })).map(silenceView);
}

/** Ends a silence now, audited as `silence.expire`. @throws ApiError 404 when there is none or it was over */
export async function endSilence(actor: Actor, id: number): Promise<SilenceView> {
  const s = (await expireSilence(await getDb(), id)) ?? notFound('live silence', id);
  const view = silenceView(s);
  await recordAudit(actor, 'silence.expire', 'silence', id, { after: view });
  return view;
}

const num = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : Number(v));

/**
 * A rule's definition from the Alerts page's form: the fields its kind uses
 * (the others are ignored), numbers read as numbers, empty ones left to the
 * defaults. The result is checked by the same schema as the API's body.
 */
export function ruleFromForm(f: Record<string, string>): Record<string, unknown> {
  const kind = f.kind ?? '';
  const spec: Record<string, unknown> = {
    name: (f.name ?? '').trim(),
    kind,
    severity: f.severity || undefined,
    selector: (f.selector ?? '').trim(),
    for_seconds: num(f.for_seconds),
    description: (f.description ?? '').trim() || undefined,
  };
  if (kind === 'threshold') Object.assign(spec, { figure: f.figure, op: f.op || undefined, value: num(f.value) });
  if (kind === 'disk_full') Object.assign(spec, { within_hours: num(f.within_hours), window_seconds: num(f.window_seconds) });
  if (kind === 'container')
    Object.assign(spec, { condition: f.condition, container: (f.container ?? '').trim(), window_seconds: num(f.window_seconds) });
  if (kind === 'probe') Object.assign(spec, { probe: (f.probe ?? '').trim() });
  if (kind === 'certificate') Object.assign(spec, { within_days: num(f.within_days), probe: (f.probe ?? '').trim() });
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
}

/** Turns a rule on or off, audited as `alert_rule.update`. @throws ApiError 404 */
export async function setRuleEnabled(actor: Actor, id: number, enabled: boolean): Promise<AlertRuleView> {
  const rule = await showRule(id);
  return (await changeRule(actor, id, { ...rule.spec, enabled })).rule;
}
