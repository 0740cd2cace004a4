import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { postToChannel } from '@vigil/core/channels';
import { silentLogger } from '@vigil/core/log';
import { closedPort, requireCommand, until } from '@vigil/core/testing';
import { addTarget } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startExporterProcess } from '../test/exporter.js';
import { ruleAlertForAlertmanager } from './alert-notify.js';
import { createScraperApp } from './app.js';
import { alertmanagerAlert } from './notify.js';
import { Scraper } from './scraper.js';

// deploy/ as shipped. Prometheus: promtool's checks, the rules' unit tests, and
// a real Prometheus (Debian's package) that finds a real exporter through the
// scraper's HTTP service discovery and evaluates every rule against its series.
// systemd: the units as `systemd-analyze verify` reads them.
const REPO = path.resolve(import.meta.dirname, '../..');
const DEPLOY = path.join(REPO, 'deploy/prometheus');
const silent = silentLogger();

describe('deploy/prometheus', () => {
  it('is a valid Prometheus configuration with valid rules', (ctx) => {
    requireCommand('promtool', 'prometheus', (note) => ctx.skip(note));
    const r = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: DEPLOY, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('passes its rules unit tests (promtool test rules)', (ctx) => {
    requireCommand('promtool', 'prometheus', (note) => ctx.skip(note));
    const r = spawnSync('promtool', ['test', 'rules', 'rules.test.yml'], { cwd: DEPLOY, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  describe('a real Prometheus with this configuration', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-prometheus-'));
    const cleanup: (() => unknown)[] = [];
    afterAll(async () => {
      for (const f of cleanup.reverse()) await f();
      rmSync(dir, { recursive: true, force: true });
    });

    it('discovers the exporter through the scraper, scrapes it with the token, evaluates every rule and answers every dashboard query', async (ctx) => {
      requireCommand('prometheus', 'prometheus', (note) => ctx.skip(note));
      const token = 'prometheus-test-token-0123456789';
      const exporter = await startExporterProcess({ VIGIL_EXPORTER_TOKEN: token });
      cleanup.push(() => exporter.close());
      const database = await testDatabases()[0]!.open();
      cleanup.push(() => database.drop());
      await addTarget(database.db, { name: 'lab-1', url: `${exporter.url}/metrics`, labels: { rack: 'a' } });
      const scraper = new Scraper(
        database.db,
        { concurrency: 1, bodyLimitBytes: 1 << 24, downAfterIntervals: 3, retentionDays: 30, queueLimit: 100 },
        silent,
      );
      await scraper.refreshTargets();
      const scraperServer = createScraperApp(scraper, silent).listen(0, '127.0.0.1');
      await new Promise((r) => scraperServer.once('listening', r));
      cleanup.push(() => scraperServer.close());
      const scraperPort = (scraperServer.address() as { port: number }).port;

      // The shipped file with its addresses pointed here, its intervals at one
      // second, and its commented token lines switched on.
      writeFileSync(path.join(dir, 'vigil-exporter.token'), `${token}\n`);
      const shipped = readFileSync(path.join(DEPLOY, 'prometheus.yml'), 'utf8');
      const config = shipped
        .replaceAll('127.0.0.1:9111', `127.0.0.1:${scraperPort}`)
        .replace(/(scrape_interval|evaluation_interval|refresh_interval): \d+s/g, '$1: 1s')
        .replace(
          '# authorization:\n    #   credentials_file: /etc/prometheus/vigil-exporter.token',
          `authorization:\n      credentials_file: ${path.join(dir, 'vigil-exporter.token')}`,
        )
        .replace(/^# (alerting:| {2}alertmanagers:| {4}- static_configs:| {8}- targets: .*)$/gm, '$1');
      expect(config).toContain(`credentials_file: ${dir}`);
      expect(config).toMatch(/^alerting:\n {2}alertmanagers:\n {4}- static_configs:\n {8}- targets: \['127\.0\.0\.1:9093'\]$/m);
      writeFileSync(path.join(dir, 'prometheus.yml'), config);
      cpSync(path.join(DEPLOY, 'rules'), path.join(dir, 'rules'), { recursive: true });

      const port = await closedPort();
      let log = '';
      const prometheus: ChildProcess = spawn(
        'prometheus',
        [
          `--config.file=${path.join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prometheus.stdout!.on('data', (d: Buffer) => (log += d));
      prometheus.stderr!.on('data', (d: Buffer) => (log += d));
      cleanup.push(() => prometheus.kill());
      const api = async (p: string) => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/${p}`);
        return ((await r.json()) as { data: unknown }).data;
      };
      const query = async (q: string) =>
        (await api(`query?query=${encodeURIComponent(q)}`)) as { result: { metric: Record<string, string>; value: [number, string] }[] };

      try {
        // Found through /sd, named by the target, labelled with its labels, and up (the token worked).
        const up = await until('Prometheus scraping the exporter found through /sd', 30, async () =>
          (await query('up{job="vigil-exporter"}')).result.find((s) => s.value[1] === '1'),
        );
        expect(up.metric).toMatchObject({ instance: 'lab-1', rack: 'a', vigil_target: 'lab-1' });
        expect(Number((await query('node_memory_MemTotal_bytes{instance="lab-1"}')).result[0]?.value[1])).toBeGreaterThan(0);
        await until('Prometheus scraping the scraper', 30, async () =>
          (await query('up{job="vigil-scraper"}')).result.find((s) => s.value[1] === '1'),
        );
        // Every rule evaluated against the live series without an error.
        type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
        const rules = await until('Prometheus evaluating every rule', 30, async () => {
          const { groups } = (await api('rules')) as { groups: { rules: Rule[] }[] };
          const all = groups.flatMap((g) => g.rules);
          return all.length > 0 && all.every((r) => !r.lastEvaluation.startsWith('0001')) ? all : null;
        });
        expect(rules.length).toBeGreaterThanOrEqual(13);
        expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);

        // Every query of the Grafana dashboard runs, for this host; the host's
        // own panels have data (sensors, PSI, containers and probes may not exist here).
        await until(
          'three scrapes of the exporter, so rate() has samples',
          30,
          async () => Number((await query('count_over_time(up{instance="lab-1"}[1m])')).result[0]?.value[1]) >= 3,
        );
        const dashboard = JSON.parse(readFileSync(path.join(REPO, 'deploy/grafana/vigil-host.json'), 'utf8')) as {
          panels: { title: string; targets?: { expr: string }[] }[];
        };
        const exprs = dashboard.panels.flatMap((p) =>
          (p.targets ?? []).map((t) => ({
            panel: p.title,
            expr: t.expr.replaceAll('$instance', 'lab-1').replaceAll('$__rate_interval', '1m'),
          })),
        );
        expect(exprs.length).toBeGreaterThan(20);
        const failed: string[] = [];
        const empty: string[] = [];
        for (const { panel, expr } of exprs) {
          const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
          const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
          if (body.status !== 'success') failed.push(`${panel}: ${expr}: ${body.error}`);
          else if (
            /^(1 - |-?rate\(|time\(\) - |count\()?node_(cpu|load|memory|filesystem|disk|network|boot|uname)/.test(expr) &&
            body.data!.result.length === 0
          )
            empty.push(`${panel}: ${expr}`);
        }
        expect(failed, failed.join('\n')).toEqual([]);
        expect(empty, `queries without data:\n${empty.join('\n')}`).toEqual([]);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nprometheus said:\n${log.slice(-3000)}`);
      }
    }, 60_000);
  });
});

describe('deploy/systemd', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-systemd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.for(['vigil-exporter.service', 'vigil-scraper.service'])('%s passes systemd-analyze verify, pointed at this checkout', (unit, ctx) => {
    requireCommand('systemd-analyze', 'systemd', (note) => ctx.skip(note));
    // As installed under /opt/vigil; here, this checkout, and an empty environment file.
    writeFileSync(path.join(dir, 'empty.env'), '');
    const text = readFileSync(path.join(REPO, 'deploy/systemd', unit), 'utf8')
      .replaceAll('/opt/vigil', REPO)
      .replace(/EnvironmentFile=-?\/etc\/vigil\/\S+/, `EnvironmentFile=${path.join(dir, 'empty.env')}`);
    expect(text).toContain(`ExecStart=${REPO}/`);
    writeFileSync(path.join(dir, unit), text);
    const r = spawnSync('systemd-analyze', ['verify', path.join(dir, unit)], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe(''); // unknown keys are only warnings: any output fails
    expect(r.status).toBe(0);
  });
});

describe('deploy/alertmanager', () => {
  const SHIPPED = path.join(REPO, 'deploy/alertmanager/alertmanager.yml');
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-alertmanager-'));
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a valid Alertmanager configuration (amtool check-config)', (ctx) => {
    requireCommand('amtool', 'prometheus-alertmanager', (note) => ctx.skip(note));
    const r = spawnSync('amtool', ['check-config', SHIPPED], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS[\s\S]*1 inhibit rules/);
    expect(r.status).toBe(0);
  });

  it("holds back the alerts of a host Vigil says is down, and no other host's", async (ctx) => {
    requireCommand('prometheus-alertmanager', 'prometheus-alertmanager', (note) => ctx.skip(note));
    const port = await closedPort();
    const am = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${SHIPPED}`,
        `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((r) => am.once('exit', r));
    cleanup.push(async () => {
      if (am.exitCode === null && am.signalCode === null) am.kill();
      await exited;
    });
    const base = `http://127.0.0.1:${port}`;
    await until('Alertmanager answering', 30, async () => (await fetch(`${base}/-/ready`)).ok);
    const now = new Date();
    // What Vigil's notifiers send: pi-1 down, and a container alert on pi-1 and on pi-2.
    const down = alertmanagerAlert({ name: 'pi-1', labels: { rack: 'a' } }, 'pi-1 is down', now, { now });
    const container = (host: string) =>
      ruleAlertForAlertmanager(
        {
          id: 1,
          rule_name: 'ContainerDown',
          state: 'firing',
          severity: 'warning',
          summary: 'container web is exited',
          subject: 'container:web',
          labels: { rack: 'a', alertname: 'ContainerDown', instance: host, host, severity: 'warning', container: 'web' },
          started_at: now,
          fired_at: now,
          resolved_at: null,
          inhibited: false,
          silenced_by: null,
          target_id: 1,
          target_name: host,
          target_state: 'up',
          target_paused: false,
        },
        now,
      );
    await postToChannel({ kind: 'alertmanager', url: base }, [down, container('pi-1'), container('pi-2')]);
    type Alert = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    const states = await until('the inhibition applied', 30, async () => {
      const all = (await (await fetch(`${base}/api/v2/alerts`)).json()) as Alert[];
      const of = (name: string, host: string) => all.find((a) => a.labels.alertname === name && a.labels.instance === host)?.status;
      const s = { down: of('VigilTargetDown', 'pi-1'), pi1: of('ContainerDown', 'pi-1'), pi2: of('ContainerDown', 'pi-2') };
      return s.pi1?.state === 'suppressed' && s;
    });
    expect(states.down?.state).toBe('active');
    expect(states.pi1?.inhibitedBy.length).toBe(1);
    expect(states.pi2?.state).toBe('active');
  });
});
