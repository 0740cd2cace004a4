import type http from 'node:http';
import { type HeartbeatFigures, NO_FIGURES } from '@vigil/core/heartbeat';
import type { ContainerInventory, Inventory } from '@vigil/core/inventory';
import { silentLogger } from '@vigil/core/log';
import { httpServer } from '@vigil/core/testing';
import {
  addAlertRule,
  addChannel,
  addSilence,
  addTarget,
  alertNews,
  applyTransitions,
  type Database,
  ensureHeartbeatPartitions,
  expireSilence,
  insertHeartbeats,
  listAlerts,
  type Target,
} from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AlertNotifier,
  type AlertsWebhookPayload,
  alertsSlackPayload,
  groupMessage,
  groupTitle,
  MESSAGE_LIST_LIMIT,
} from './alert-notify.js';
import { AlertEngine } from './alerts.js';
import { eventMessage } from './notify.js';

const silent = silentLogger();

/** A receiver that records every JSON body it is sent and answers 200 (or the statuses given first). */
async function receiver(statuses: number[] = []) {
  const bodies: unknown[] = [];
  const server = await httpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.statusCode = statuses.shift() ?? 200;
      if (res.statusCode === 200) bodies.push(JSON.parse(body));
      res.end();
    });
  });
  return { ...server, url: server.url.replace(/\/metrics$/, '/hook'), bodies };
}

const container = (name: string, c: Partial<ContainerInventory> = {}): ContainerInventory => ({
  name,
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
const figures = (f: Partial<HeartbeatFigures> = {}): HeartbeatFigures => ({ ...NO_FIGURES, ...f });
const none: Inventory = { containers: [], services: [] };

describe.each(testDatabases())('alerts end to end on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let clock: Date;
  const at = (seconds: number) => new Date(Date.UTC(2026, 11, 4, 12, 0, 0) + seconds * 1000);
  const notifier = (claimant = 'a') => new AlertNotifier(db, silent, { now: () => clock, claimant, retrySeconds: 5 });
  const messages = () => hook.bodies as AlertsWebhookPayload[];

  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    hook = await receiver();
  });
  afterAll(async () => {
    await hook.close();
    await drop();
  });
  beforeEach(async () => {
    await db.deleteFrom('targets').execute();
    await db.deleteFrom('alert_rules').execute();
    await db.deleteFrom('notification_channels').execute();
    await db.deleteFrom('silences').execute();
    hook.bodies.length = 0;
  });

  async function rack(n: number, labels: Record<string, string>): Promise<Target[]> {
    const out: Target[] = [];
    for (let i = 1; i <= n; i++) out.push(await addTarget(db, { name: `pi-${i}`, url: `http://pi-${i}:9110/metrics`, labels }));
    return out;
  }

  it('sends a whole rack whose probes fail within the group wait as one message per channel, and its recovery as one', async () => {
    await addAlertRule(db, { name: 'ProbeFailing', kind: 'probe', severity: 'critical' });
    await addChannel(db, { name: 'hook', kind: 'webhook', url: hook.url });
    const slack = await receiver();
    await addChannel(db, { name: 'chat', kind: 'slack', url: slack.url });
    await db.updateTable('notification_channels').set({ group_by: 'alertname,rack' }).execute();
    const hosts = await rack(20, { rack: 'a' });
    const alerts = new AlertEngine(db);
    await alerts.loadRules();
    const failing: Inventory = {
      containers: [],
      services: [{ name: 'site', success: false, durationSeconds: 1, statusCode: 503, certExpiry: null }],
    };
    // The hosts fail over 10 s, one pass every 2 s.
    for (let s = 0; s <= 10; s += 2) {
      clock = at(s);
      for (const h of hosts.slice(s * 2, s * 2 + 4)) alerts.observe(h, clock, figures(), failing);
      await alerts.pass();
      await notifier().pass();
    }
    expect((await listAlerts(db, { state: 'firing' })).total).toBe(20);
    expect(hook.bodies).toEqual([]);
    // 30 s after the first fired: one message each.
    clock = at(29);
    await notifier().pass();
    expect(hook.bodies).toEqual([]);
    clock = at(30);
    await notifier().pass();
    await notifier('b').pass();
    expect(messages()).toHaveLength(1);
    expect(messages()[0]).toMatchObject({
      type: 'alerts',
      status: 'firing',
      title: '20 firing: ProbeFailing (rack=a)',
      group: { alertname: 'ProbeFailing', rack: 'a' },
    });
    expect(
      messages()[0]!
        .alerts.map((a) => a.target.name)
        .sort(),
    ).toEqual(hosts.map((h) => h.name).sort());
    expect(slack.bodies).toHaveLength(1);
    const text = (slack.bodies[0] as { text: string }).text;
    expect(text.split('\n')).toHaveLength(1 + 20);
    expect(text).toContain(':red_circle: *20 firing: ProbeFailing (rack=a)*');
    // Nothing new: nothing sent, until the repeat interval.
    clock = at(60);
    await notifier().pass();
    expect(messages()).toHaveLength(1);
    // All recover: one resolution message, group_interval (300 s) after the first.
    clock = at(100);
    for (const h of hosts) alerts.observe(h, clock, figures(), none);
    await alerts.pass();
    await notifier().pass();
    expect(messages()).toHaveLength(1);
    clock = at(330);
    await notifier().pass();
    await notifier().pass();
    expect(messages()).toHaveLength(2);
    expect(messages()[1]).toMatchObject({ status: 'resolved', title: '20 resolved: ProbeFailing (rack=a)' });
    expect(slack.bodies).toHaveLength(2);
    await slack.close();
  });

  it('holds back the containers and probes of a host that is down, and sends those that still fail once it is back', async () => {
    await addAlertRule(db, { name: 'ContainerDown', kind: 'container', condition: 'not_running' });
    await addAlertRule(db, { name: 'ProbeFailing', kind: 'probe' });
    await addChannel(db, { name: 'hook', kind: 'webhook', url: hook.url });
    const [host] = await rack(1, {});
    const alerts = new AlertEngine(db);
    await alerts.loadRules();
    // Shutting down: its 5 containers exit and its 2 probes fail, then it goes silent and liveness says down.
    const dying: Inventory = {
      containers: ['a', 'b', 'c', 'd', 'e'].map((n) => container(n, { state: 'exited' })),
      services: ['site', 'api'].map((n) => ({ name: n, success: false, durationSeconds: 1, statusCode: null, certExpiry: null })),
    };
    clock = at(0);
    alerts.observe(host!, clock, figures(), dying);
    await alerts.pass();
    await notifier().pass();
    clock = at(6);
    await applyTransitions(db, [{ targetId: host!.id, from: 'unknown', to: 'down', at: clock, message: 'pi-1 is down' }]);
    clock = at(40);
    await notifier().pass();
    expect(hook.bodies).toEqual([]);
    const held = await listAlerts(db, { held: 'inhibited' });
    expect(held.total).toBe(7);
    // Back up: 3 containers came back, 2 did not, and one probe still fails.
    clock = at(100);
    await applyTransitions(db, [{ targetId: host!.id, from: 'down', to: 'up', at: clock, message: 'pi-1 is up' }]);
    const back: Inventory = {
      containers: [...['a', 'b', 'c'].map((n) => container(n)), ...['d', 'e'].map((n) => container(n, { state: 'exited' }))],
      services: [
        { name: 'site', success: true, durationSeconds: 1, statusCode: 200, certExpiry: null },
        { name: 'api', success: false, durationSeconds: 1, statusCode: null, certExpiry: null },
      ],
    };
    alerts.observe(host!, clock, figures(), back);
    await alerts.pass();
    await notifier().pass();
    expect((await listAlerts(db, { held: 'inhibited' })).total).toBe(0);
    clock = at(130);
    await notifier().pass();
    const sent = messages().flatMap((m) => m.alerts.map((a) => `${m.status} ${a.rule} ${a.subject}`));
    expect(sent.sort()).toEqual(['firing ContainerDown container:d', 'firing ContainerDown container:e', 'firing ProbeFailing probe:api']);
    // Those that recovered while held back were never told, so no resolution is sent for them.
    expect(messages().some((m) => m.status === 'resolved')).toBe(false);
  });

  it('fires a container restarting every 10 s once, and resolves it once', async () => {
    await addAlertRule(db, { name: 'ContainerRestarting', kind: 'container', condition: 'restarting', window_seconds: 60 });
    const ch = await addChannel(db, { name: 'hook', kind: 'webhook', url: hook.url });
    await db
      .updateTable('notification_channels')
      .set({ group_wait_seconds: 0, group_interval_seconds: 0 })
      .where('id', '=', ch.id)
      .execute();
    const [host] = await rack(1, {});
    const alerts = new AlertEngine(db);
    await alerts.loadRules();
    let restarts = 0;
    for (let s = 0; s <= 300; s += 5) {
      clock = at(s);
      if (s > 0 && s <= 120 && s % 10 === 0) restarts++;
      alerts.observe(host!, clock, figures(), { containers: [container('web', { restarts })], services: [] });
      await alerts.pass();
      await notifier().pass();
    }
    expect(messages().map((m) => `${m.status} ${m.alerts[0]!.summary}`)).toEqual([
      'firing container web is restarting (1 restarts, the last within 60 s)',
      'resolved container web is restarting (1 restarts, the last within 60 s)',
    ]);
    const [alert] = (await listAlerts(db, { state: 'all' })).rows;
    // Fired at the first rise, resolved a window after the last (120 s + 60 s, seen at the next heartbeat).
    expect([alert!.fired_at, alert!.resolved_at]).toEqual([at(10), at(185)]);
  });

  it('lets a silence hide alerts, and an expired one not', async () => {
    await addAlertRule(db, { name: 'HostHot', kind: 'threshold', figure: 'temperature_celsius', value: 80, severity: 'critical' });
    const ch = await addChannel(db, { name: 'hook', kind: 'webhook', url: hook.url });
    await db
      .updateTable('notification_channels')
      .set({ group_wait_seconds: 0, group_interval_seconds: 0 })
      .where('id', '=', ch.id)
      .execute();
    const hosts = await rack(2, {});
    const alerts = new AlertEngine(db);
    await alerts.loadRules();
    clock = at(0);
    const silence = await addSilence(db, {
      matchers: 'host=pi-1',
      startsAt: at(-60),
      endsAt: at(600),
      createdBy: 'ada',
      comment: 'fan swap',
    });
    for (const h of hosts) alerts.observe(h, clock, figures({ temperature_celsius: 90 }), none);
    await alerts.pass();
    await notifier().pass();
    expect(messages().flatMap((m) => m.alerts.map((a) => a.target.name))).toEqual(['pi-2']);
    expect((await listAlerts(db, { held: 'silenced' })).rows.map((a) => [a.target_name, a.silenced_by])).toEqual([['pi-1', silence.id]]);
    clock = at(30);
    await expireSilence(db, silence.id, clock);
    await notifier().pass();
    expect(messages().flatMap((m) => m.alerts.map((a) => `${a.target.name} ${a.status}`))).toEqual([
      'pi-2 firing',
      'pi-1 firing',
      'pi-2 firing',
    ]);
  });

  it('sends a group once and on time when the scraper restarts within its wait, and retries a failed send', async () => {
    await addAlertRule(db, { name: 'HostDiskFull', kind: 'threshold', figure: 'disk_usage_percent', value: 90 });
    const flaky = await receiver([500]);
    await addChannel(db, { name: 'flaky', kind: 'webhook', url: flaky.url });
    const [host] = await rack(1, {});
    const first = new AlertEngine(db);
    await first.loadRules();
    clock = at(0);
    first.observe(host!, clock, figures({ disk_used_bytes: 95, disk_avail_bytes: 5 }), none);
    await first.pass();
    await notifier('old').pass();
    // A new process: nothing kept in memory, the group's time is in the database.
    clock = at(20);
    await notifier('new').pass();
    expect(flaky.bodies).toEqual([]);
    clock = at(30);
    await notifier('new').pass();
    expect(flaky.bodies).toEqual([]);
    clock = at(34);
    await notifier('new').pass();
    expect(flaky.bodies).toEqual([]);
    clock = at(35);
    await Promise.all([notifier('new').pass(), notifier('other').pass()]);
    clock = at(40);
    await notifier('new').pass();
    expect(flaky.bodies).toHaveLength(1);
    expect((flaky.bodies[0] as AlertsWebhookPayload).alerts[0]!.summary).toBe('disk_usage_percent is 95% (> 90%)');
    await flaky.close();
  });

  it('lets a group whose alerts were all silenced before it was sent wait its group_wait again for the next one', async () => {
    await addAlertRule(db, { name: 'HostHot', kind: 'threshold', figure: 'temperature_celsius', value: 80 });
    await addChannel(db, { name: 'hook', kind: 'webhook', url: hook.url });
    const [one, two] = await rack(2, {});
    const alerts = new AlertEngine(db);
    await alerts.loadRules();
    clock = at(0);
    alerts.observe(one!, clock, figures({ temperature_celsius: 90 }), none);
    await alerts.pass();
    await notifier().pass();
    await addSilence(db, { matchers: 'host=pi-1', startsAt: at(-1), endsAt: at(3600), createdBy: 'ada' });
    clock = at(30);
    await notifier().pass();
    expect(hook.bodies).toEqual([]);
    // Another host, much later: its own 30 s, not at once.
    clock = at(100);
    alerts.observe(two!, clock, figures({ temperature_celsius: 90 }), none);
    await alerts.pass();
    await notifier().pass();
    expect(hook.bodies).toEqual([]);
    clock = at(130);
    await notifier().pass();
    expect(messages().map((m) => m.alerts.map((a) => a.target.name))).toEqual([['pi-2']]);
  });

  it('routes by matchers and least severity, and never sends a resolved alert a channel was not told fired', async () => {
    await addAlertRule(db, { name: 'Hot', kind: 'threshold', figure: 'temperature_celsius', value: 80, severity: 'warning' });
    await addAlertRule(db, { name: 'Burning', kind: 'threshold', figure: 'temperature_celsius', value: 100, severity: 'critical' });
    const pager = await receiver();
    for (const [name, url, extra] of [
      ['pager', pager.url, { min_severity: 'critical' }],
      ['rack-b', hook.url, { matchers: 'rack=b' }],
    ] as const) {
      const c = await addChannel(db, { name, kind: 'webhook', url });
      await db
        .updateTable('notification_channels')
        .set({ group_wait_seconds: 0, group_interval_seconds: 0, ...extra })
        .where('id', '=', c.id)
        .execute();
    }
    const a = await addTarget(db, { name: 'a-1', url: 'http://a-1/metrics', labels: { rack: 'a' } });
    const b = await addTarget(db, { name: 'b-1', url: 'http://b-1/metrics', labels: { rack: 'b' } });
    const alerts = new AlertEngine(db);
    await alerts.loadRules();
    clock = at(0);
    alerts.observe(a, clock, figures({ temperature_celsius: 120 }), none);
    alerts.observe(b, clock, figures({ temperature_celsius: 85 }), none);
    await alerts.pass();
    await notifier().pass();
    const got = (r: { bodies: unknown[] }) =>
      (r.bodies as AlertsWebhookPayload[]).flatMap((m) => m.alerts.map((x) => `${x.rule} ${x.target.name}`)).sort();
    expect(got(pager)).toEqual(['Burning a-1']);
    expect(got(hook)).toEqual(['Hot b-1']);
    await pager.close();
  });

  it('sends a group to a push service as a message for people, and a host event too', async () => {
    await addAlertRule(db, { name: 'HostHot', kind: 'threshold', figure: 'temperature_celsius', value: 80, severity: 'critical' });
    const ch = await addChannel(db, { name: 'push', kind: 'gotify', url: `${hook.url}?token=APP` });
    await db.updateTable('notification_channels').set({ group_wait_seconds: 0 }).where('id', '=', ch.id).execute();
    const [host] = await rack(1, {});
    const alerts = new AlertEngine(db);
    await alerts.loadRules();
    clock = at(0);
    alerts.observe(host!, clock, figures({ temperature_celsius: 91.5 }), none);
    await alerts.pass();
    await notifier().pass();
    expect(hook.bodies).toEqual([
      { title: '1 firing: HostHot', message: 'pi-1 · HostHot (critical): temperature_celsius is 91.5°C (> 80°C)', priority: 8 },
    ]);
    expect(
      groupMessage({
        firing: [],
        resolved: Array(MESSAGE_LIST_LIMIT + 2).fill({ ...(await alertNews(db)).alerts[0]!, severity: 'info' }),
        labels: {},
      }),
    ).toMatchObject({
      status: 'resolved',
      severity: 'info',
      lines: expect.arrayContaining(['…and 2 more']),
    });
    const down = eventMessage({
      event: { id: 1, time: at(5), from_state: 'up', to_state: 'down', message: 'pi-1 is down: connection refused' },
      target: { id: host!.id, name: 'pi-1', url: host!.url, labels: {} },
    });
    expect(down).toEqual({
      title: 'pi-1 is down',
      lines: ['pi-1 is down: connection refused', `at ${at(5).toISOString()}`],
      status: 'firing',
      severity: 'critical',
    });
  });

  it('predicts a disk full at the first heartbeats after a restart, from the stored history', async () => {
    await addAlertRule(db, { name: 'FillingUp', kind: 'disk_full', within_hours: 2, window_seconds: 3600 });
    const [host] = await rack(1, {});
    const now = Date.now();
    await ensureHeartbeatPartitions(db, new Date(now - 7_200_000), 2);
    // An hour of heartbeats a minute, free space falling 1 MB a minute: full 100 minutes from now.
    const rows = [];
    for (let m = 60; m >= 1; m--) {
      const t = now - m * 60_000;
      rows.push({
        target_id: host!.id,
        time: new Date(t),
        up: true,
        duration_seconds: 0.01,
        disk_used_bytes: 1e9,
        disk_total_bytes: 2e9,
        disk_avail_bytes: 100e6 + m * 1e6,
      });
    }
    await insertHeartbeats(db, rows);
    const alerts = new AlertEngine(db);
    await alerts.loadRules();
    alerts.observe(host!, new Date(now), figures({ disk_avail_bytes: 100e6 }), none);
    await alerts.pass(); // reads the history: too late for this heartbeat's verdict
    alerts.observe(host!, new Date(now + 30_000), figures({ disk_avail_bytes: 99.5e6 }), none);
    await alerts.pass();
    const [alert] = (await listAlerts(db, { state: 'firing' })).rows;
    expect(alert?.rule_name).toBe('FillingUp');
    // 99.5 MB left at 1 MB a minute: 99.5 minutes, in hours.
    expect(alert!.value).toBeCloseTo(99.5 / 60, 2);
    expect(alert!.summary).toBe('the root filesystem is predicted full in 1.7 h (within 2 h)');
  });

  it('titles and lists a group', () => {
    const a = { rule_name: 'ProbeFailing', target_name: 'pi-1', summary: 'probe site is failing' } as never;
    expect(groupTitle({ firing: [a], resolved: [a, a], labels: { alertname: 'ProbeFailing' } })).toBe('1 firing, 2 resolved: ProbeFailing');
    const many = alertsSlackPayload({ firing: Array(MESSAGE_LIST_LIMIT + 5).fill(a), resolved: [], labels: {} }).text.split('\n');
    expect(many).toHaveLength(1 + MESSAGE_LIST_LIMIT + 1);
    expect(many.at(-1)).toBe('…and 5 more');
    expect(alertsSlackPayload({ firing: [], resolved: [a], labels: {} }).text).toBe(
      ':large_green_circle: *1 resolved: ProbeFailing*\n• resolved: *pi-1* ProbeFailing: probe site is failing',
    );
  });
});
