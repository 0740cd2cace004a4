import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@vigil/core/log';
import { closedPort, httpServer, requireCommand, until } from '@vigil/core/testing';
import { addChannel, addTarget, applyTransitions, type Database } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerAlert, Notifier, retryDelaySeconds, webhookPayload } from './notify.js';

const silent = silentLogger();

/** A receiver that records every request body and answers with the statuses given, then 200. */
async function receiver(statuses: number[] = []) {
  const bodies: unknown[] = [];
  const server = await httpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(body) });
      res.statusCode = statuses.shift() ?? 200;
      res.end(res.statusCode === 200 ? 'ok' : 'receiver is broken');
    });
  });
  return { ...server, url: server.url.replace(/\/metrics$/, '/hook'), bodies };
}

describe('retryDelaySeconds', () => {
  it('starts at 5 s, doubles, and stops at 10 minutes', () => {
    expect([1, 2, 3, 4, 7, 8, 20].map(retryDelaySeconds)).toEqual([5, 10, 20, 40, 320, 600, 600]);
  });
});

describe('alertmanagerAlert', () => {
  it('fires with a TTL, resolves at recovery, and keeps only label names Alertmanager accepts', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    const firing = alertmanagerAlert(
      { name: 'pi-1', labels: { rack: 'a', 'bad-name': 'x' } },
      'pi-1 is down: refused',
      new Date('2026-11-22T09:59:00Z'),
      { now },
    );
    expect(firing).toEqual({
      labels: { rack: 'a', alertname: 'VigilTargetDown', vigil_target: 'pi-1', instance: 'pi-1', severity: 'critical' },
      annotations: { summary: 'pi-1 is down', description: 'pi-1 is down: refused' },
      startsAt: '2026-11-22T09:59:00.000Z',
      endsAt: '2026-11-22T10:05:00.000Z',
    });
    const resolved = alertmanagerAlert({ name: 'pi-1', labels: {} }, 'back', new Date('2026-11-22T10:01:00Z'), {
      now,
      resolvedAt: new Date('2026-11-22T10:01:00Z'),
    });
    expect([resolved.startsAt, resolved.endsAt]).toEqual(['2026-11-22T10:01:00.000Z', '2026-11-22T10:01:00.000Z']);
  });
});

describe('webhookPayload', () => {
  it('tells the receiver the target, never the password in its URL', () => {
    const body = webhookPayload({
      event: { id: 1, time: new Date(0), from_state: 'up', to_state: 'down', message: 'pi-1 is down' },
      target: { id: 3, name: 'pi-1', url: 'http://scrape:hunter2@pi-1.lan:9110/metrics', labels: {} },
    } as never);
    expect(body.target.url).toBe('http://scrape:***@pi-1.lan:9110/metrics');
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });
});

describe.each(testDatabases())('Notifier on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  const cleanup: (() => unknown)[] = [];
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
    await drop();
  });

  it('sends down and recovery events to webhook and Slack channels, retrying a failing receiver until it answers', async () => {
    const hook = await receiver([500, 503]);
    const slack = await receiver();
    cleanup.push(hook.close, slack.close);
    await addChannel(db, { name: 'hook', kind: 'webhook', url: hook.url });
    // No group wait: this one is about retries (grouping is the next test's).
    await addChannel(db, { name: 'chat', kind: 'slack', url: slack.url, group_wait_seconds: 0 });
    const t = await addTarget(db, { name: 'pi-1', url: 'http://pi-1:9110/metrics', labels: { rack: 'a' } });
    const down = new Date(Date.now() + 5);
    await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'down', at: down, message: 'pi-1 is down: connection refused' }]);
    let clock = Date.now() + 1000;
    const notifier = new Notifier(db, silent, { now: () => new Date(clock) });

    await notifier.deliverDue();
    expect(slack.bodies).toEqual([
      {
        path: '/hook',
        type: 'application/json',
        body: { text: expect.stringMatching(/^:red_circle: \*pi-1\* is down \(.+\)\npi-1 is down: connection refused$/) },
      },
    ]);
    expect(hook.bodies).toHaveLength(1); // answered 500
    await notifier.deliverDue();
    expect(hook.bodies).toHaveLength(1); // not due yet: 5 s backoff
    clock += 5_000;
    await notifier.deliverDue();
    expect(hook.bodies).toHaveLength(2); // answered 503
    clock += 10_000;
    await notifier.deliverDue();
    expect(hook.bodies).toHaveLength(3);
    expect(hook.bodies[2]).toEqual({
      path: '/hook',
      type: 'application/json',
      body: {
        version: 1,
        event: {
          id: expect.any(Number),
          time: down.toISOString(),
          from: 'unknown',
          to: 'down',
          message: 'pi-1 is down: connection refused',
        },
        target: { id: t.id, name: 'pi-1', url: 'http://pi-1:9110/metrics', labels: { rack: 'a' } },
      },
    });
    expect(notifier.stats).toEqual({ sent: 2, retried: 2, failed: 0 });

    // Recovery: one more message each; nothing sent twice.
    await applyTransitions(db, [{ targetId: t.id, from: 'down', to: 'up', at: new Date(), message: 'pi-1 is up' }]);
    await notifier.deliverDue();
    await notifier.deliverDue();
    expect(hook.bodies).toHaveLength(4);
    expect(slack.bodies).toHaveLength(2);
    expect((slack.bodies[1] as { body: { text: string } }).body.text).toMatch(/^:large_green_circle: \*pi-1\* is back up/);
  });

  it('sends a rack that goes down within the group wait as one message per chat channel, every event to a webhook, and the recovery as one', async () => {
    const chat = await receiver();
    const push = await receiver();
    const hook = await receiver();
    cleanup.push(chat.close, push.close, hook.close);
    const t0 = Date.now() + 60_000;
    // Channels made now: they get the events from now on.
    await addChannel(db, { name: 'rack-chat', kind: 'slack', url: chat.url, group_by: 'alertname,rack' });
    await addChannel(db, { name: 'rack-push', kind: 'ntfy', url: `${chat.url.replace('/hook', '')}/ignored`, group_by: 'rack' });
    await db
      .updateTable('notification_channels')
      .set({ url: `${new URL(push.url).origin}/rack-topic` })
      .where('name', '=', 'rack-push')
      .execute();
    await addChannel(db, { name: 'rack-hook', kind: 'webhook', url: hook.url });
    const hosts = [];
    for (let i = 1; i <= 20; i++)
      hosts.push(await addTarget(db, { name: `rack-${i}`, url: `http://rack-${i}:9110/metrics`, labels: { rack: 'r' } }));
    // They go silent and are called down over 10 s.
    for (const [i, h] of hosts.entries())
      await applyTransitions(db, [
        { targetId: h.id, from: 'unknown', to: 'down', at: new Date(t0 + i * 500), message: `rack-${i + 1} is down: no answer` },
      ]);
    let clock = t0 + 29_000;
    await new Notifier(db, silent, { now: () => new Date(clock) }).deliverDue();
    expect(hook.bodies).toHaveLength(20);
    expect([chat.bodies, push.bodies]).toEqual([[], []]);
    // The scraper restarts within the group wait: nothing kept in memory, the next one sends once, on time.
    clock = t0 + 30_000;
    const next = new Notifier(db, silent, { now: () => new Date(clock), claimant: 'next' });
    // Two replicas at once: one sends each group, whole.
    const other = new Notifier(db, silent, { now: () => new Date(clock), claimant: 'other' });
    await Promise.all([next.deliverDue(), other.deliverDue()]);
    await Promise.all([next.deliverDue(), other.deliverDue()]);
    expect(chat.bodies).toHaveLength(1);
    const text = (chat.bodies[0] as { body: { text: string } }).body.text.split('\n');
    expect(text[0]).toBe(':red_circle: *20 hosts in rack=r are down*');
    expect(text.slice(1)).toEqual(hosts.map((h) => `• ${h.name}: ${h.name} is down: no answer`));
    expect(push.bodies).toHaveLength(1);
    expect((push.bodies[0] as { body: { title: string; topic: string } }).body).toMatchObject({
      topic: 'rack-topic',
      title: '20 hosts in rack=r are down',
    });
    // Back up together: one message again.
    for (const [i, h] of hosts.entries())
      await applyTransitions(db, [
        { targetId: h.id, from: 'down', to: 'up', at: new Date(t0 + 100_000 + i * 100), message: `rack-${i + 1} is up` },
      ]);
    clock = t0 + 140_000;
    await next.deliverDue();
    expect(chat.bodies).toHaveLength(2);
    expect((chat.bodies[1] as { body: { text: string } }).body.text).toMatch(/^:large_green_circle: \*20 hosts in rack=r are back up\*/);
    expect(hook.bodies).toHaveLength(40);
    // Gone with their events, which are dated ahead of the tests after this one.
    await db.deleteFrom('notification_channels').where('name', 'like', 'rack-%').execute();
    await db.deleteFrom('targets').where('name', 'like', 'rack-%').execute();
  });

  it('gives a delivery up after the last attempt, naming the error', async () => {
    const port = await closedPort();
    await new Promise((r) => setTimeout(r, 10)); // after the events of the test before
    await addChannel(db, { name: 'gone', kind: 'webhook', url: `http://127.0.0.1:${port}/hook` });
    const t = await addTarget(db, { name: 'pi-2', url: 'http://pi-2:9110/metrics' });
    await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'down', at: new Date(Date.now() + 5), message: 'pi-2 is down' }]);
    let clock = Date.now() + 1000;
    const notifier = new Notifier(db, silent, { now: () => new Date(clock), maxAttempts: 3 });
    for (let i = 0; i < 5; i++) {
      await notifier.deliverDue();
      clock += 3_600_000;
    }
    expect(notifier.stats.failed).toBe(1);
    // A second event for the dead channel waits untried while the first one fails.
    await applyTransitions(db, [{ targetId: t.id, from: 'down', to: 'up', at: new Date(), message: 'pi-2 is up' }]);
    await applyTransitions(db, [{ targetId: t.id, from: 'up', to: 'down', at: new Date(), message: 'pi-2 is down again' }]);
    await notifier.deliverDue();
    const attempts = await db
      .selectFrom('notification_deliveries as d')
      .innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
      .select('d.attempts')
      .where('c.name', '=', 'gone')
      .where('d.status', '=', 'pending')
      .orderBy('d.id')
      .execute();
    expect(attempts.map((a) => a.attempts)).toEqual([1, 0]);
    const row = await db
      .selectFrom('notification_deliveries as d')
      .innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
      .select(['d.status', 'd.attempts', 'd.last_error'])
      .where('c.name', '=', 'gone')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'failed', attempts: 3, last_error: `http://127.0.0.1:${port}/***: connection refused` }); // the webhook's path is its secret
  });
});

describe('Notifier with a real Alertmanager', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-alertmanager-'));
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires an alert when a target goes down, keeps it firing, and resolves it on recovery', async (ctx) => {
    requireCommand('prometheus-alertmanager', 'prometheus-alertmanager', (note) => ctx.skip(note));
    writeFileSync(path.join(dir, 'alertmanager.yml'), 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
    const port = await closedPort();
    const am = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${path.join(dir, 'alertmanager.yml')}`,
        `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    // Waited for: on SIGTERM Alertmanager writes its snapshots into the data
    // directory, which must be done before the directory is removed.
    const exited = new Promise((r) => am.once('exit', r));
    cleanup.push(async () => {
      if (am.exitCode === null && am.signalCode === null) am.kill();
      await exited;
    });
    const base = `http://127.0.0.1:${port}`;
    type Alert = { labels: Record<string, string>; status: { state: string }; endsAt: string };
    const all = async () => (await (await fetch(`${base}/api/v2/alerts?active=true&silenced=false&inhibited=false`)).json()) as Alert[];
    const alerts = async () => (await all()).filter((a) => a.labels.alertname === 'VigilTargetDown');
    await until('Alertmanager answering', 30, async () => (await fetch(`${base}/-/ready`)).ok);

    const { db, drop } = await testDatabases()[0]!.open();
    cleanup.push(drop);
    await addChannel(db, { name: 'am', kind: 'alertmanager', url: `${base}/` });
    const t = await addTarget(db, { name: 'pi-3', url: 'http://pi-3:9110/metrics', labels: { rack: 'c' } });
    await applyTransitions(db, [
      { targetId: t.id, from: 'unknown', to: 'down', at: new Date(Date.now() + 5), message: 'pi-3 is down: no answer' },
    ]);
    await new Promise((r) => setTimeout(r, 10));
    const notifier = new Notifier(db, silent);
    await notifier.deliverDue();
    const [firing] = await alerts();
    expect(firing?.labels).toEqual({
      alertname: 'VigilTargetDown',
      vigil_target: 'pi-3',
      instance: 'pi-3',
      severity: 'critical',
      rack: 'c',
    });
    expect(firing?.status.state).toBe('active');
    const firstEnd = Date.parse(firing!.endsAt);
    await new Promise((r) => setTimeout(r, 1100));
    await notifier.refreshAlertmanagers(); // still down: the alert's end moves on, and the watchdog fires
    expect(Date.parse((await alerts())[0]!.endsAt)).toBeGreaterThan(firstEnd);
    expect((await all()).filter((a) => a.labels.alertname === 'VigilWatchdog').map((a) => a.labels)).toEqual([
      { alertname: 'VigilWatchdog', severity: 'none' },
    ]);

    await applyTransitions(db, [{ targetId: t.id, from: 'down', to: 'up', at: new Date(), message: 'pi-3 is up' }]);
    await notifier.deliverDue();
    expect(notifier.stats).toMatchObject({ sent: 2, failed: 0 });
    await until('the alert resolved in Alertmanager', 10, async () => (await alerts()).length === 0);
  }, 60_000);
});
