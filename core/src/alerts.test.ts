import { describe, expect, it } from 'vitest';
import {
  type AlertRuleSpec,
  advance,
  alertLabels,
  alertRuleSchema,
  type Condition,
  DEFAULT_RULES,
  DISK_POINTS_PER_WINDOW,
  evaluate,
  formatMatchers,
  groupOf,
  matches,
  newHistory,
  parseMatchers,
  predictLinear,
  ruleFor,
  severityAtLeast,
  silenceActive,
  silenceProblem,
  targetLabels,
} from './alerts.js';
import { type HeartbeatFigures, NO_FIGURES } from './heartbeat.js';
import type { ContainerInventory, Inventory, ServiceInventory } from './inventory.js';

const rule = (input: Record<string, unknown>): AlertRuleSpec => alertRuleSchema.parse({ name: 'R', ...input });
const figures = (f: Partial<HeartbeatFigures>): HeartbeatFigures => ({ ...NO_FIGURES, ...f });
const none: Inventory = { containers: [], services: [] };
const container = (c: Partial<ContainerInventory>): ContainerInventory => ({
  name: 'web',
  image: null,
  state: 'running',
  health: null,
  restarts: 0,
  cpuSecondsTotal: null,
  cpuPercent: null,
  memoryBytes: null,
  memoryLimitBytes: null,
  startedAt: null,
  ...c,
});
const service = (s: Partial<ServiceInventory>): ServiceInventory => ({
  name: 'site',
  success: true,
  durationSeconds: 0.1,
  statusCode: 200,
  certExpiry: null,
  ...s,
});

describe('matchers', () => {
  it('reads =, != and spaces, and matches absent labels as empty', () => {
    const ms = parseMatchers(' rack = a , role!=db,,');
    expect(ms).toEqual([
      { name: 'rack', op: '=', value: 'a' },
      { name: 'role', op: '!=', value: 'db' },
    ]);
    expect(formatMatchers(ms)).toBe('rack=a,role!=db');
    expect(matches(ms, { rack: 'a' })).toBe(true);
    expect(matches(ms, { rack: 'a', role: 'db' })).toBe(false);
    expect(matches(ms, { rack: 'b' })).toBe(false);
    expect(matches(parseMatchers('zone='), {})).toBe(true);
    expect(matches([], { any: 'thing' })).toBe(true);
  });

  it('says which matcher is wrong', () => {
    expect(() => parseMatchers('rack')).toThrow('matcher "rack": write name=value or name!=value');
    expect(() => parseMatchers('=a')).toThrow('write name=value');
    expect(() => parseMatchers('1rack=a')).toThrow('"1rack" is not a label name');
    expect(() => parseMatchers('x'.repeat(1001))).toThrow('at most 1000');
  });

  it('reads a long hostile string in linear time', () => {
    const text = `${'a!'.repeat(300)}=${'='.repeat(390)}`;
    expect(() => parseMatchers(text)).toThrow(/not a label name/);
  });
});

describe('rule schema', () => {
  it('fills defaults and refuses what cannot work, naming the field', () => {
    const r = rule({ kind: 'threshold', figure: 'cpu_usage_percent', value: 90 });
    expect(r).toMatchObject({ op: '>', severity: 'warning', for_seconds: 0, enabled: true, selector: '', overrides: [] });
    const bad = (input: Record<string, unknown>) => {
      const r = alertRuleSchema.safeParse({ name: 'R', ...input });
      expect(r.success).toBe(false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(bad({ kind: 'threshold', figure: 'bogus', value: 1 })).toMatch(/^figure:/);
    expect(bad({ kind: 'threshold', figure: 'load1', value: 1, for_seconds: -5 })).toMatch(/^for_seconds:/);
    expect(bad({ kind: 'threshold', figure: 'load1', value: 1, selector: 'rack' })).toMatch(/^selector: matcher "rack"/);
    expect(bad({ kind: 'disk_full', within_hours: 0 })).toMatch(/^within_hours:/);
    expect(bad({ kind: 'nothing' })).toMatch(/^kind:/);
    expect(bad({ kind: 'probe', overrides: [{ selector: '' }] })).toMatch(/^overrides\.0\.selector: an override needs a selector/);
    expect(bad({ kind: 'probe', extra: 1 })).toMatch(/extra/);
    expect(alertRuleSchema.safeParse({ name: '9lives', kind: 'probe' }).success).toBe(false);
  });

  it('ships defaults that all validate, with unique names', () => {
    const names = DEFAULT_RULES.map((r) => alertRuleSchema.parse(r).name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('ruleFor', () => {
  const spec = rule({
    kind: 'threshold',
    figure: 'disk_usage_percent',
    value: 90,
    selector: 'env!=lab',
    overrides: [
      { selector: 'role=db', value: 95, severity: 'critical' },
      { selector: 'host=pi-3', enabled: false },
      { selector: 'role=db,rack=b', value: 99 },
    ],
  });

  it('applies the fleet default, the first matching override, or nothing', () => {
    expect(ruleFor(spec, targetLabels('web-1', {}))).toMatchObject({ value: 90, severity: 'warning' });
    expect(ruleFor(spec, targetLabels('db-1', { role: 'db', rack: 'b' }))).toMatchObject({ value: 95, severity: 'critical' });
    expect(ruleFor(spec, targetLabels('pi-3', {}))).toBeNull();
    expect(ruleFor(spec, targetLabels('lab-1', { env: 'lab' }))).toBeNull();
    expect(ruleFor({ ...spec, enabled: false }, targetLabels('web-1', {}))).toBeNull();
  });
});

describe('evaluate', () => {
  it('holds a threshold for each figure only beyond its value, and never on missing figures', () => {
    const rules = [
      { id: 1, spec: rule({ kind: 'threshold', figure: 'cpu_usage_percent', value: 90 }) },
      { id: 2, spec: rule({ kind: 'threshold', figure: 'memory_usage_percent', value: 50 }) },
      { id: 3, spec: rule({ kind: 'threshold', figure: 'disk_usage_percent', value: 80 }) },
      { id: 4, spec: rule({ kind: 'threshold', figure: 'load1', value: 4 }) },
      { id: 5, spec: rule({ kind: 'threshold', figure: 'temperature_celsius', op: '<', value: 5 }) },
    ];
    const f = figures({
      cpu_usage_percent: 95,
      memory_used_bytes: 50,
      memory_total_bytes: 100,
      disk_used_bytes: 81,
      disk_avail_bytes: 19,
      load1: 3.9,
      temperature_celsius: 2,
    });
    const got = evaluate(rules, 100, f, none, newHistory());
    expect(got.map((c) => [c.ruleId, c.value])).toEqual([
      [1, 95],
      [3, 81],
      [5, 2],
    ]);
    expect(got[0]!.summary).toBe('cpu_usage_percent is 95% (> 90%)');
    expect(evaluate(rules, 100, NO_FIGURES, none, newHistory())).toEqual([]);
  });

  it('predicts a disk full as predict_linear does, once the window is a quarter full', () => {
    const spec = rule({ kind: 'disk_full', within_hours: 1, window_seconds: 400 });
    const h = newHistory();
    // 10,000 bytes free, losing 2 bytes a second: full at t = 5,000.
    const at = (t: number) => evaluate([{ id: 7, spec }], t, figures({ disk_avail_bytes: 10_000 - 2 * t }), none, h);
    const firedAt: number[] = [];
    for (let t = 0; t <= 2000; t += 10) if (at(t).length) firedAt.push(t);
    // Full within 3,600 s from t = 1,400 on; evaluated every 10 s.
    expect(firedAt[0]).toBe(1400);
    expect(firedAt.length).toBe(61);
    expect(h.disk.length).toBe(41);
    const c = at(2010)[0]!;
    expect(c.value).toBeCloseTo((10_000 - 4020) / 2 / 3600, 6);
    expect(c.summary).toContain('predicted full in 0.8 h');
  });

  it('keeps at most about 120 points per window however often the host is scraped', () => {
    const spec = rule({ kind: 'disk_full', within_hours: 1, window_seconds: 1200 });
    const h = newHistory();
    let fired = 0;
    for (let t = 0; t <= 3000; t++)
      if (evaluate([{ id: 1, spec }], t, figures({ disk_avail_bytes: 10_000 - 2 * t }), none, h).length) fired++;
    expect(h.disk.length).toBeLessThanOrEqual(DISK_POINTS_PER_WINDOW + 1);
    expect(h.disk.length).toBeGreaterThan(100);
    // Full at t = 5,000: within an hour from t = 1,400 on, a fit on the thinned points says so from then too.
    expect(fired).toBe(3000 - 1400 + 1);
  });

  it('never predicts a full disk from free space that grows or stays', () => {
    const spec = rule({ kind: 'disk_full', within_hours: 1000, window_seconds: 60 });
    const h = newHistory();
    for (let t = 0; t < 200; t += 5) expect(evaluate([{ id: 1, spec }], t, figures({ disk_avail_bytes: 500 + t }), none, h)).toEqual([]);
    const flat = newHistory();
    for (let t = 0; t < 200; t += 5) expect(evaluate([{ id: 1, spec }], t, figures({ disk_avail_bytes: 500 }), none, flat)).toEqual([]);
  });

  it('fits a least-squares line', () => {
    expect(predictLinear([{ t: 0, avail: 1 }], 0, 10)).toBeNull();
    expect(
      predictLinear(
        [0, 0, 0].map((_, i) => ({ t: 5, avail: i })),
        5,
        10,
      ),
    ).toBeNull();
    const p = predictLinear(
      [
        { t: 0, avail: 1 },
        { t: 1, avail: 3 },
        { t: 2, avail: 5 },
        { t: 3, avail: 7.5 },
      ],
      3,
      2,
    )!;
    // slope = 10.75 / 5 = 2.15, intercept (t=0) = 4.125 - 2.15 × 1.5 = 0.9: at t = 5, 11.65.
    expect(p.slope).toBeCloseTo(2.15, 9);
    expect(p.value).toBeCloseTo(11.65, 9);
  });

  it('finds containers not running, unhealthy, or restarting within the window', () => {
    const rules = [
      { id: 1, spec: rule({ kind: 'container', condition: 'not_running' }) },
      { id: 2, spec: rule({ kind: 'container', condition: 'unhealthy' }) },
      { id: 3, spec: rule({ kind: 'container', condition: 'restarting', window_seconds: 30 }) },
      { id: 4, spec: rule({ kind: 'container', condition: 'not_running', container: 'db' }) },
    ];
    const h = newHistory();
    const inv = (restarts: number): Inventory => ({
      containers: [
        container({ name: 'web', restarts }),
        container({ name: 'db', state: 'exited' }),
        container({ name: 'api', health: 'unhealthy' }),
        container({ name: 'cadvisor-like', state: null, restarts: null }),
      ],
      services: [],
    });
    const keys = (cs: Condition[]) => cs.map((c) => `${c.ruleId} ${c.subject}`);
    expect(keys(evaluate(rules, 0, NO_FIGURES, inv(3), h))).toEqual(['1 container:db', '2 container:api', '4 container:db']);
    // A rise of the count holds for the window, then lapses.
    expect(keys(evaluate(rules, 10, NO_FIGURES, inv(4), h))).toContain('3 container:web');
    expect(keys(evaluate(rules, 40, NO_FIGURES, inv(4), h))).toContain('3 container:web');
    expect(keys(evaluate(rules, 41, NO_FIGURES, inv(4), h))).not.toContain('3 container:web');
    // A recreated container (count back to 0) is not a restart.
    expect(keys(evaluate(rules, 50, NO_FIGURES, inv(0), h))).not.toContain('3 container:web');
    // A container gone is forgotten.
    evaluate(rules, 60, NO_FIGURES, none, h);
    expect(h.restarts.size).toBe(0);
  });

  it('finds failing probes and certificates expiring', () => {
    const rules = [
      { id: 1, spec: rule({ kind: 'probe' }) },
      { id: 2, spec: rule({ kind: 'certificate', within_days: 14 }) },
      { id: 3, spec: rule({ kind: 'probe', probe: 'other' }) },
    ];
    const now = 1_000_000;
    const inv: Inventory = {
      containers: [],
      services: [
        service({ name: 'site', success: false, statusCode: 503, certExpiry: now + 3 * 86_400 }),
        service({ name: 'api', certExpiry: now + 30 * 86_400 }),
        service({ name: 'old', success: false, statusCode: null, certExpiry: now - 10 }),
      ],
    };
    const got = evaluate(rules, now, NO_FIGURES, inv, newHistory());
    expect(got.map((c) => `${c.ruleId} ${c.subject} ${c.summary}`)).toEqual([
      '1 probe:site probe site is failing (HTTP 503)',
      '1 probe:old probe old is failing',
      '2 probe:site the certificate of site expires in 3 days (within 14)',
      '2 probe:old the certificate of old has expired',
    ]);
  });
});

describe('advance', () => {
  const cond = (ruleId: number, forSeconds: number, subject = ''): Condition => ({
    ruleId,
    subject,
    severity: 'warning',
    value: 1,
    summary: 's',
    forSeconds,
  });

  it('goes pending, fires after `for`, resolves, and clears a pending one', () => {
    expect(advance([], [cond(1, 60)], 100)).toEqual([{ to: 'pending', condition: cond(1, 60), startedAt: 100 }]);
    expect(advance([], [cond(1, 0)], 100)).toEqual([{ to: 'firing', condition: cond(1, 0), startedAt: 100 }]);
    const pending = [{ ruleId: 1, subject: '', state: 'pending' as const, startedAt: 100 }];
    expect(advance(pending, [cond(1, 60)], 159)).toEqual([]);
    expect(advance(pending, [cond(1, 60)], 160)).toEqual([{ to: 'firing', condition: cond(1, 60), startedAt: 100 }]);
    expect(advance(pending, [], 130)).toEqual([{ to: 'cleared', ruleId: 1, subject: '' }]);
    const firing = [{ ruleId: 1, subject: 'container:a', state: 'firing' as const, startedAt: 100 }];
    expect(advance(firing, [cond(1, 0, 'container:a')], 200)).toEqual([]);
    expect(advance(firing, [cond(1, 0, 'container:b')], 200)).toEqual([
      { to: 'firing', condition: cond(1, 0, 'container:b'), startedAt: 200 },
      { to: 'resolved', ruleId: 1, subject: 'container:a' },
    ]);
    // The same condition twice counts once.
    expect(advance([], [cond(2, 0), cond(2, 0)], 1)).toHaveLength(1);
  });
});

describe('labels and severities', () => {
  it('labels an alert with its target, rule and subject', () => {
    expect(alertLabels('ContainerDown', 'critical', { name: 'pi-1', labels: { rack: 'a', 'bad-name': 'x' } }, 'container:web')).toEqual({
      rack: 'a',
      alertname: 'ContainerDown',
      instance: 'pi-1',
      host: 'pi-1',
      severity: 'critical',
      container: 'web',
    });
    expect(groupOf(' alertname, rack ,,zone', { alertname: 'HostHot', rack: 'a', host: 'pi-1' })).toEqual({
      key: 'alertname=HostHot,rack=a,zone=',
      labels: { alertname: 'HostHot', rack: 'a', zone: '' },
    });
    expect(groupOf('', { rack: 'a' })).toEqual({ key: '', labels: {} });
    expect(severityAtLeast('critical', 'warning')).toBe(true);
    expect(severityAtLeast('info', 'warning')).toBe(false);
  });
});

describe('silences', () => {
  const at = (iso: string) => new Date(iso);
  it('hold within their span, and a maintenance window only within its duration after each scheduled time', () => {
    const one = { matchers: 'rack=a', startsAt: at('2026-12-04T10:00:00Z'), endsAt: at('2026-12-04T11:00:00Z') };
    expect(silenceActive(one, at('2026-12-04T09:59:59Z'))).toBe(false);
    expect(silenceActive(one, at('2026-12-04T10:00:00Z'))).toBe(true);
    expect(silenceActive(one, at('2026-12-04T11:00:00Z'))).toBe(false);
    // Sundays 02:00 UTC for an hour, for a year.
    const window = { ...one, endsAt: at('2027-12-04T00:00:00Z'), schedule: '0 2 * * 0', durationSeconds: 3600 };
    expect(silenceActive(window, at('2026-12-06T02:00:00Z'))).toBe(true);
    expect(silenceActive(window, at('2026-12-06T02:59:59Z'))).toBe(true);
    expect(silenceActive(window, at('2026-12-06T03:00:00Z'))).toBe(false);
    expect(silenceActive(window, at('2026-12-07T02:30:00Z'))).toBe(false);
  });

  it('refuse what cannot work, naming the field', () => {
    const ok = { matchers: 'host=a', startsAt: new Date(0), endsAt: new Date(1000) };
    expect(silenceProblem(ok)).toBeNull();
    expect(silenceProblem({ ...ok, matchers: '' })?.field).toBe('matchers');
    expect(silenceProblem({ ...ok, matchers: 'host' })?.field).toBe('matchers');
    expect(silenceProblem({ ...ok, endsAt: new Date(0) })?.field).toBe('ends_at');
    expect(silenceProblem({ ...ok, startsAt: new Date(Number.NaN) })?.field).toBe('starts_at');
    expect(silenceProblem({ ...ok, schedule: 'every sunday' })?.field).toBe('schedule');
    expect(silenceProblem({ ...ok, schedule: '0 2 * * 0' })?.field).toBe('duration_seconds');
    expect(silenceProblem({ ...ok, schedule: '0 2 * * 0', durationSeconds: 60 })).toBeNull();
  });
});
