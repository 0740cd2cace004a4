import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '@vigil/core/log';
import { closedPort, fixtureTree, httpServer, until } from '@vigil/core/testing';
import { addAlertRule, addChannel, addTarget, type Database, listAlerts } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { startExporterProcess } from '../test/exporter.js';
import type { AlertsWebhookPayload } from './alert-notify.js';
import { Scraper } from './scraper.js';

// The whole path with real processes: a real exporter probes a service that
// refuses, the running scraper scrapes it, its alerts job fires the rule and
// sends the channel one message; the service comes back and the alert resolves.
describe.each(testDatabases())('alerts from a real exporter through the running scraper on $name', (engine) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-alerts-e2e-'));
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires when a probe fails, sends once, and resolves when the service answers again', async () => {
    const { db, drop }: { db: Kysely<Database>; drop: () => Promise<void> } = await engine.open();
    cleanup.push(drop);
    const port = await closedPort();
    writeFileSync(path.join(dir, 'services.yaml'), `services:\n  - { name: web, tcp: 127.0.0.1:${port}, timeout: 1s }\n`);
    const exporter = await startExporterProcess({
      VIGIL_PROC: path.join(fixtureTree('this-host'), 'proc'),
      VIGIL_SERVICES_FILE: path.join(dir, 'services.yaml'),
    });
    cleanup.push(exporter.close);
    const bodies: AlertsWebhookPayload[] = [];
    const hook = await httpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        const body = JSON.parse(b);
        if (body.type === 'alerts') bodies.push(body);
        res.end();
      });
    });
    cleanup.push(hook.close);
    await addAlertRule(db, { name: 'ProbeFailing', kind: 'probe', severity: 'critical' });
    await addChannel(db, { name: 'hook', kind: 'webhook', url: hook.url, group_wait_seconds: 0, group_interval_seconds: 0 });
    await addTarget(db, {
      name: 'lab-1',
      url: `${exporter.url}/metrics`,
      interval_seconds: 1,
      timeout_seconds: 0.9,
      labels: { rack: 'a' },
    });
    const scraper = new Scraper(
      db,
      { concurrency: 2, bodyLimitBytes: 1 << 20, downAfterIntervals: 3, retentionDays: 30, queueLimit: 100, targetRefreshSeconds: 1 },
      silentLogger(),
    );
    await scraper.start();
    cleanup.push(() => scraper.stop());

    const fired = await until('the alert is sent', 30, async () => bodies.length > 0 && bodies[0]);
    expect(fired).toMatchObject({ status: 'firing', title: '1 firing: ProbeFailing' });
    expect(fired.alerts).toEqual([
      expect.objectContaining({
        rule: 'ProbeFailing',
        severity: 'critical',
        subject: 'probe:web',
        target: expect.objectContaining({ name: 'lab-1' }),
        labels: { rack: 'a', alertname: 'ProbeFailing', instance: 'lab-1', host: 'lab-1', severity: 'critical', probe: 'web' },
      }),
    ]);
    // The service answers again: the next probe succeeds and the alert resolves, said once.
    const service = net.createServer((s) => s.end());
    await new Promise<void>((r) => service.listen(port, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => service.close(r)));
    const resolved = await until('the resolution is sent', 30, async () => bodies.find((b) => b.status === 'resolved'));
    expect(resolved.alerts.map((a) => [a.status, a.subject])).toEqual([['resolved', 'probe:web']]);
    expect(bodies).toHaveLength(2);
    const [alert] = (await listAlerts(db, { state: 'all' })).rows;
    expect(alert).toMatchObject({ state: 'resolved', rule_name: 'ProbeFailing', target_name: 'lab-1' });
    expect(scraper.alerts.stats.evaluated).toBeGreaterThan(1);
  });
});
