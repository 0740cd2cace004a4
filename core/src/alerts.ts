/**
 * Alert rules beyond liveness, as the scraper evaluates them and the console,
 * the API and the CLI manage them: what a rule is (its zod schema, the one
 * validation), label matchers (selectors, silences, channel routes), and the
 * pure evaluation of one heartbeat against a target's rules.
 *
 * A rule names a condition on a host (a figure above a threshold, its root
 * disk predicted full), on each of its containers (not running, unhealthy,
 * restarting) or on each of its probes (failing, a certificate expiring). The
 * condition is checked on every successful scrape's figures and inventory,
 * never on stale data: a host that stopped answering is the liveness rule's
 * business, and its open alerts stay as they were until it answers again.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { diskUsagePercent, memoryUsagePercent } from './figures.js';
import type { HeartbeatFigures } from './heartbeat.js';
import type { Inventory } from './inventory.js';

/** How bad an alert is, least first: a channel's `min_severity` receives that and worse. */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Whether `severity` is at least `min`. */
export function severityAtLeast(severity: string, min: string): boolean {
  return SEVERITIES.indexOf(severity as Severity) >= SEVERITIES.indexOf(min as Severity);
}

/**
 * The host figures a threshold rule can watch, with their unit: cpu busy %,
 * memory used % of MemTotal, the root filesystem's used % (df's), the
 * 1-minute load average, and the hottest sensor (°C).
 */
export const THRESHOLD_FIGURES = {
  cpu_usage_percent: '%',
  memory_usage_percent: '%',
  disk_usage_percent: '%',
  load1: '',
  temperature_celsius: '°C',
} as const;
export type ThresholdFigure = keyof typeof THRESHOLD_FIGURES;

/** A threshold figure's value in a heartbeat, or null when the heartbeat lacks it. */
export function figureValue(figure: ThresholdFigure, f: HeartbeatFigures): number | null {
  switch (figure) {
    case 'cpu_usage_percent':
      return f.cpu_usage_percent;
    case 'memory_usage_percent':
      return memoryUsagePercent(f.memory_used_bytes, f.memory_total_bytes);
    case 'disk_usage_percent':
      return diskUsagePercent(f.disk_used_bytes, f.disk_avail_bytes);
    case 'load1':
      return f.load1;
    case 'temperature_celsius':
      return f.temperature_celsius;
  }
}

/** One label matcher: `name=value` or `name!=value` (an absent label matches as ""). */
export interface Matcher {
  name: string;
  op: '=' | '!=';
  value: string;
}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Thrown for matchers that cannot be read; the message says which one and why. */
export class MatcherError extends Error {
  override name = 'MatcherError';
}

/**
 * Reads matchers written `rack=a,role!=db` (commas between; spaces around
 * each are ignored; an empty string matches everything). Values may not hold
 * commas. The pseudo label `host` is the target's name. Linear: split and indexOf.
 * @throws MatcherError naming the matcher that has no `=`, or a label name that is not one
 */
export function parseMatchers(text: string): Matcher[] {
  if (text.length > 1000) throw new MatcherError('matchers: at most 1000 characters');
  const out: Matcher[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new MatcherError(`matcher "${part.slice(0, 60)}": write name=value or name!=value`);
    const negated = part[eq - 1] === '!';
    const name = part.slice(0, negated ? eq - 1 : eq).trim();
    if (!LABEL_NAME.test(name))
      throw new MatcherError(
        `matcher "${part.slice(0, 60)}": "${name.slice(0, 60)}" is not a label name (letters, digits, _; not first a digit)`,
      );
    out.push({ name, op: negated ? '!=' : '=', value: part.slice(eq + 1).trim() });
  }
  return out;
}

/** Matchers written back as `parseMatchers` reads them. */
export function formatMatchers(ms: readonly Matcher[]): string {
  return ms.map((m) => `${m.name}${m.op}${m.value}`).join(',');
}

/** Whether every matcher holds for `labels` (an empty list matches all). */
export function matches(ms: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of ms) {
    const v = labels[m.name] ?? '';
    if ((v === m.value) !== (m.op === '=')) return false;
  }
  return true;
}

const matchersField = z
  .string()
  .max(1000)
  .default('')
  .superRefine((s, ctx) => {
    try {
      parseMatchers(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;

/** What a rule may change for the hosts an override selects. */
const overrideSchema = z
  .object({
    selector: matchersField.refine((s) => s.trim() !== '', 'an override needs a selector: it would replace the rule for every host'),
    enabled: z.boolean().optional(),
    value: z.number().finite().optional(),
    for_seconds: z.number().int().min(0).max(604_800).optional(),
    within_hours: z.number().positive().max(8760).optional(),
    within_days: z.number().positive().max(3650).optional(),
    severity: z.enum(SEVERITIES).optional(),
  })
  .strict();

const common = {
  name: z.string().regex(NAME, 'a rule name is a letter then letters, digits, dot, dash or underscore (at most 63)'),
  severity: z.enum(SEVERITIES).default('warning'),
  /** Which targets the rule watches (label matchers; `host=` a target's name); empty for the whole fleet. */
  selector: matchersField,
  /** How long the condition must hold before the alert fires, seconds (pending meanwhile). */
  for_seconds: z.number().int().min(0).max(604_800).default(0),
  enabled: z.boolean().default(true),
  /** Replacements for the hosts each selects, the first that matches winning: per label set or per host. */
  overrides: z.array(overrideSchema).max(50).default([]),
  description: z.string().max(500).default(''),
};

/** A rule's definition, as the API takes it and the database keeps it (`alert_rules.spec`). */
export const alertRuleSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('threshold'),
      figure: z.enum(Object.keys(THRESHOLD_FIGURES) as [ThresholdFigure, ...ThresholdFigure[]]),
      op: z.enum(['>', '<']).default('>'),
      value: z.number().finite(),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal('disk_full'),
      /** Fires when the root filesystem's free space, fitted over `window_seconds`, reaches 0 within this many hours. */
      within_hours: z.number().positive().max(8760),
      window_seconds: z.number().int().min(60).max(604_800).default(3600),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal('container'),
      condition: z.enum(['not_running', 'unhealthy', 'restarting']),
      /** Only the containers of this name (Docker's); all when empty. */
      container: z.string().max(255).default(''),
      /** For `restarting`: a rise of the restart count within this window keeps the alert firing, seconds. */
      window_seconds: z.number().int().min(1).max(86_400).default(300),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal('probe'),
      /** Only the probe of this name; all when empty. */
      probe: z.string().max(255).default(''),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal('certificate'),
      /** Fires when a probed certificate chain's earliest expiry is within this many days. */
      within_days: z.number().positive().max(3650),
      probe: z.string().max(255).default(''),
      ...common,
    })
    .strict(),
]);
export type AlertRuleSpec = z.infer<typeof alertRuleSchema>;
export type AlertRuleInput = z.input<typeof alertRuleSchema>;

/** A rule as evaluated: its spec, its id, and its selector read. */
export interface AlertRule {
  id: number;
  spec: AlertRuleSpec;
}

/** The labels of the target a rule is evaluated for: its own labels, with `host` its name. */
export function targetLabels(name: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  return { ...labels, host: name };
}

/** A rule with its selector and overrides read once (core's matchers), for evaluating it on many targets. */
export interface CompiledRule {
  id: number;
  spec: AlertRuleSpec;
  selector: Matcher[];
  overrides: { matchers: Matcher[]; spec: AlertRuleSpec }[];
}

/** Reads a rule's selector and overrides once. @throws MatcherError (a stored rule was checked when saved, so only a corrupt one) */
export function compileRule(id: number, spec: AlertRuleSpec): CompiledRule {
  return {
    id,
    spec,
    selector: parseMatchers(spec.selector),
    overrides: spec.overrides.map((o) => {
      const { selector, ...rest } = o;
      const patch = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      return { matchers: parseMatchers(selector), spec: { ...spec, ...patch } as AlertRuleSpec };
    }),
  };
}

/**
 * The rule as it applies to a target with `labels` (see {@link targetLabels}):
 * its first override whose selector matches merged over it; null when the
 * rule does not select the target, or it or the override is disabled.
 */
export function applicableRule(rule: CompiledRule, labels: Readonly<Record<string, string>>): AlertRuleSpec | null {
  if (!rule.spec.enabled || !matches(rule.selector, labels)) return null;
  for (const o of rule.overrides) if (matches(o.matchers, labels)) return o.spec.enabled ? o.spec : null;
  return rule.spec;
}

/** {@link applicableRule} for a rule not compiled (reads its matchers on each call). */
export function ruleFor(spec: AlertRuleSpec, labels: Readonly<Record<string, string>>): AlertRuleSpec | null {
  return applicableRule(compileRule(0, spec), labels);
}

/** One condition that holds now: for the host (subject "") or one container or probe. */
export interface Condition {
  ruleId: number;
  /** '' for the host, else `container:<name>` or `probe:<name>`. */
  subject: string;
  severity: Severity;
  /** The figure that made it hold (percent, seconds to full, days left, restarts...), for the message. */
  value: number | null;
  /** One line saying what holds, for messages and pages. */
  summary: string;
  /** How long it must hold before firing, seconds. */
  forSeconds: number;
}

/** A point of a host's history a disk prediction is fitted on. */
export interface DiskPoint {
  /** Unix seconds. */
  t: number;
  /** Bytes available to unprivileged users on /. */
  avail: number;
}

/**
 * The least-squares line through `points` (from index `from`), extrapolated
 * `aheadSeconds` past `at` (Prometheus's `predict_linear`): the predicted
 * value, or null with fewer than 3 points or no spread in time.
 */
export function predictLinear(
  points: readonly DiskPoint[],
  at: number,
  aheadSeconds: number,
  from = 0,
): { value: number; slope: number } | null {
  const n = points.length - from;
  if (n < 3) return null;
  let st = 0;
  let sv = 0;
  for (let i = from; i < points.length; i++) {
    st += points[i]!.t - at;
    sv += points[i]!.avail;
  }
  const mt = st / n;
  const mv = sv / n;
  let num = 0;
  let den = 0;
  for (let i = from; i < points.length; i++) {
    const dt = points[i]!.t - at - mt;
    num += dt * (points[i]!.avail - mv);
    den += dt * dt;
  }
  if (den === 0) return null;
  const slope = num / den;
  return { slope, value: mv + slope * (aheadSeconds - mt) };
}

/** How many points of free space a disk prediction keeps per window at most (heartbeats closer together are skipped). */
export const DISK_POINTS_PER_WINDOW = 120;

/** What the evaluator keeps of one target between heartbeats. */
export interface TargetHistory {
  /** Root filesystem free space over the longest disk_full window. */
  disk: DiskPoint[];
  /** Each container's restart count at the last heartbeat, and when (Unix seconds) it last rose. */
  restarts: Map<string, { count: number; roseAt: number | null }>;
}

/** An empty history. */
export function newHistory(): TargetHistory {
  return { disk: [], restarts: new Map() };
}

const round = (v: number, places = 2) => Math.round(v * 10 ** places) / 10 ** places;

/**
 * Updates `history` with a heartbeat at `time` (Unix seconds) and returns the
 * conditions that hold for it under `rules` (each already cut to this target
 * by {@link ruleFor}). Pure but for `history`, which it keeps to the longest
 * window any rule needs.
 */
export function evaluate(
  rules: readonly { id: number; spec: AlertRuleSpec }[],
  time: number,
  figures: HeartbeatFigures,
  inventory: Inventory,
  history: TargetHistory,
): Condition[] {
  let diskWindow = 0;
  let shortest = Infinity;
  for (const r of rules)
    if (r.spec.kind === 'disk_full') {
      diskWindow = Math.max(diskWindow, r.spec.window_seconds);
      shortest = Math.min(shortest, r.spec.window_seconds);
    }
  if (diskWindow > 0 && figures.disk_avail_bytes !== null) {
    // At most about DISK_POINTS_PER_WINDOW points over the shortest window: a fit costs the same at any scrape interval.
    const last = history.disk[history.disk.length - 1];
    if (!last || time - last.t >= shortest / DISK_POINTS_PER_WINDOW) history.disk.push({ t: time, avail: figures.disk_avail_bytes });
    let drop = 0;
    while (drop < history.disk.length && history.disk[drop]!.t < time - diskWindow) drop++;
    if (drop) history.disk.splice(0, drop);
  } else if (diskWindow === 0) history.disk.length = 0;
  const seen = new Set<string>();
  for (const c of inventory.containers) {
    seen.add(c.name);
    if (c.restarts === null) continue;
    const before = history.restarts.get(c.name);
    const rose = before !== undefined && c.restarts > before.count;
    history.restarts.set(c.name, { count: c.restarts, roseAt: rose ? time : (before?.roseAt ?? null) });
  }
  for (const name of history.restarts.keys()) if (!seen.has(name)) history.restarts.delete(name);

  const out: Condition[] = [];
  for (const { id, spec } of rules) {
    const base = { ruleId: id, severity: spec.severity, forSeconds: spec.for_seconds };
    switch (spec.kind) {
      case 'threshold': {
        const v = figureValue(spec.figure, figures);
        if (v === null) break;
        if (spec.op === '>' ? v > spec.value : v < spec.value) {
          const unit = THRESHOLD_FIGURES[spec.figure];
          out.push({ ...base, subject: '', value: v, summary: `${spec.figure} is ${round(v)}${unit} (${spec.op} ${spec.value}${unit})` });
        }
        break;
      }
      case 'disk_full': {
        const span = history.disk.length ? time - history.disk[0]!.t : 0;
        if (span < spec.window_seconds / 4) break;
        let from = 0;
        while (from < history.disk.length && history.disk[from]!.t < time - spec.window_seconds) from++;
        const p = predictLinear(history.disk, time, spec.within_hours * 3600, from);
        if (!p || p.slope >= 0 || p.value > 0) break;
        const avail = figures.disk_avail_bytes ?? history.disk[history.disk.length - 1]!.avail;
        const hours = avail / -p.slope / 3600;
        out.push({
          ...base,
          subject: '',
          value: hours,
          summary: `the root filesystem is predicted full in ${round(hours, 1)} h (within ${spec.within_hours} h)`,
        });
        break;
      }
      case 'container':
        for (const c of inventory.containers) {
          if (spec.container && c.name !== spec.container) continue;
          const subject = `container:${c.name}`;
          if (spec.condition === 'not_running') {
            if (c.state !== null && c.state !== 'running')
              out.push({ ...base, subject, value: null, summary: `container ${c.name} is ${c.state}` });
          } else if (spec.condition === 'unhealthy') {
            if (c.health === 'unhealthy') out.push({ ...base, subject, value: null, summary: `container ${c.name} is unhealthy` });
          } else {
            const r = history.restarts.get(c.name);
            if (r?.roseAt !== null && r?.roseAt !== undefined && time - r.roseAt <= spec.window_seconds)
              out.push({
                ...base,
                subject,
                value: r.count,
                summary: `container ${c.name} is restarting (${r.count} restarts, the last within ${spec.window_seconds} s)`,
              });
          }
        }
        break;
      case 'probe':
        for (const s of inventory.services) {
          if (spec.probe && s.name !== spec.probe) continue;
          if (!s.success)
            out.push({
              ...base,
              subject: `probe:${s.name}`,
              value: s.statusCode,
              summary: `probe ${s.name} is failing${s.statusCode ? ` (HTTP ${s.statusCode})` : ''}`,
            });
        }
        break;
      case 'certificate':
        for (const s of inventory.services) {
          if (spec.probe && s.name !== spec.probe) continue;
          if (s.certExpiry === null) continue;
          const days = (s.certExpiry - time) / 86_400;
          if (days <= spec.within_days)
            out.push({
              ...base,
              subject: `probe:${s.name}`,
              value: days,
              summary:
                days <= 0
                  ? `the certificate of ${s.name} has expired`
                  : `the certificate of ${s.name} expires in ${round(days, 1)} days (within ${spec.within_days})`,
            });
        }
        break;
    }
  }
  return out;
}

/** The rules a fresh installation starts with (fleet defaults; edit or disable them). */
export const DEFAULT_RULES: readonly AlertRuleInput[] = [
  { name: 'HostHighCpu', kind: 'threshold', figure: 'cpu_usage_percent', value: 90, for_seconds: 600, severity: 'warning' },
  { name: 'HostHighMemory', kind: 'threshold', figure: 'memory_usage_percent', value: 90, for_seconds: 600, severity: 'warning' },
  { name: 'HostDiskFull', kind: 'threshold', figure: 'disk_usage_percent', value: 90, for_seconds: 300, severity: 'critical' },
  { name: 'HostDiskFillingUp', kind: 'disk_full', within_hours: 24, window_seconds: 21_600, for_seconds: 1800, severity: 'warning' },
  { name: 'HostHot', kind: 'threshold', figure: 'temperature_celsius', value: 80, for_seconds: 300, severity: 'warning' },
  { name: 'ContainerUnhealthy', kind: 'container', condition: 'unhealthy', for_seconds: 60, severity: 'warning' },
  { name: 'ContainerRestarting', kind: 'container', condition: 'restarting', window_seconds: 300, severity: 'warning' },
  { name: 'ProbeFailing', kind: 'probe', for_seconds: 60, severity: 'critical' },
  { name: 'CertificateExpiring', kind: 'certificate', within_days: 14, severity: 'warning' },
];

/** An alert not yet resolved, as the database keeps it. */
export interface OpenAlert {
  ruleId: number;
  subject: string;
  state: 'pending' | 'firing';
  /** When its condition began to hold, Unix seconds. */
  startedAt: number;
}

/** What one heartbeat changes of a target's alerts. */
export type AlertChange =
  | { to: 'pending' | 'firing'; condition: Condition; startedAt: number }
  | { to: 'resolved' | 'cleared'; ruleId: number; subject: string };

/**
 * The alert state machine for one target at `time` (Unix seconds), as
 * Prometheus's: a condition that begins to hold makes a `pending` alert (or
 * `firing` at once when its rule's `for` is 0); a pending one whose condition
 * has held `for` seconds fires; an open alert whose condition no longer holds
 * (or whose rule no longer applies) is `resolved` when it had fired and
 * `cleared` (forgotten) when it was pending. Nothing changes for an alert
 * whose state stays.
 */
export function advance(open: readonly OpenAlert[], conditions: readonly Condition[], time: number): AlertChange[] {
  const key = (ruleId: number, subject: string) => `${ruleId}\u0000${subject}`;
  const byKey = new Map(open.map((a) => [key(a.ruleId, a.subject), a]));
  const out: AlertChange[] = [];
  const holding = new Set<string>();
  for (const c of conditions) {
    const k = key(c.ruleId, c.subject);
    if (holding.has(k)) continue;
    holding.add(k);
    const a = byKey.get(k);
    if (!a) out.push({ to: c.forSeconds === 0 ? 'firing' : 'pending', condition: c, startedAt: time });
    else if (a.state === 'pending' && time - a.startedAt >= c.forSeconds) out.push({ to: 'firing', condition: c, startedAt: a.startedAt });
  }
  for (const a of open)
    if (!holding.has(key(a.ruleId, a.subject)))
      out.push({ to: a.state === 'firing' ? 'resolved' : 'cleared', ruleId: a.ruleId, subject: a.subject });
  return out;
}

/**
 * The labels of an alert, as silences, channel routes and Alertmanager see
 * them: the target's labels, then `alertname` (the rule's name), `instance`
 * and `host` (the target's name), `severity`, and `container` or `probe` for
 * an alert about one.
 */
export function alertLabels(
  rule: string,
  severity: string,
  target: { name: string; labels: Readonly<Record<string, string>> },
  subject: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(target.labels)) if (LABEL_NAME.test(k)) out[k] = v;
  out.alertname = rule;
  out.instance = target.name;
  out.host = target.name;
  out.severity = severity;
  const colon = subject.indexOf(':');
  if (colon > 0) out[subject.slice(0, colon)] = subject.slice(colon + 1);
  return out;
}

/**
 * A channel's group for an alert or event with `labels`: the values of the
 * channel's `group_by` labels (comma-separated; "" for one missing) and the
 * group's key, which is the same for alerts that share those values.
 */
export function groupOf(groupBy: string, labels: Readonly<Record<string, string>>): { key: string; labels: Record<string, string> } {
  const names = groupBy
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  const out = Object.fromEntries(names.map((l) => [l, labels[l] ?? '']));
  return { key: names.map((l) => `${l}=${out[l]}`).join(','), labels: out };
}

/** A silence as core judges it: matchers, its span, and for a maintenance window a cron schedule and a duration. */
export interface SilenceSpec {
  matchers: string;
  startsAt: Date;
  endsAt: Date;
  /** A cron expression (5 or 6 fields, UTC): each time it names opens a window of `durationSeconds`. */
  schedule?: string | null;
  durationSeconds?: number | null;
}

/**
 * Whether a silence holds at `now`: within [startsAt, endsAt), and for a
 * maintenance window also within `durationSeconds` of the latest time its
 * schedule named (cron-parser, UTC).
 */
export function silenceActive(s: SilenceSpec, now: Date): boolean {
  if (now < s.startsAt || now >= s.endsAt) return false;
  if (!s.schedule) return true;
  const opened = CronExpressionParser.parse(s.schedule, { currentDate: new Date(now.getTime() + 1), tz: 'UTC' })
    .prev()
    .getTime();
  return now.getTime() - opened < (s.durationSeconds ?? 0) * 1000;
}

/**
 * The problem with a silence, naming the field, or null when it can work:
 * matchers that cannot be read or are empty (it would hide everything), an
 * end not after its start, a schedule that is not a cron expression, or a
 * window without a positive duration.
 */
export function silenceProblem(s: SilenceSpec): { field: string; message: string } | null {
  try {
    if (parseMatchers(s.matchers).length === 0)
      return { field: 'matchers', message: 'a silence needs at least one matcher (alertname=…, host=…): it would hide every alert' };
  } catch (err) {
    return { field: 'matchers', message: (err as Error).message };
  }
  if (Number.isNaN(s.startsAt.getTime())) return { field: 'starts_at', message: 'starts_at is not a time' };
  if (Number.isNaN(s.endsAt.getTime()) || s.endsAt <= s.startsAt)
    return { field: 'ends_at', message: 'ends_at must be a time after starts_at' };
  if (s.schedule) {
    try {
      CronExpressionParser.parse(s.schedule, { tz: 'UTC' });
    } catch (err) {
      return { field: 'schedule', message: `schedule "${s.schedule.slice(0, 60)}" is not a cron expression: ${(err as Error).message}` };
    }
    if (!s.durationSeconds || s.durationSeconds <= 0)
      return { field: 'duration_seconds', message: 'a maintenance window needs duration_seconds, how long each one lasts' };
  }
  return null;
}
