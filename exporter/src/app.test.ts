import { execFileSync } from 'node:child_process';
import { closeSync, constants, cpSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexSamples, parseExposition } from '@vigil/core/exposition';
import { silentLogger } from '@vigil/core/log';
import { captureLog, FIXTURES, hasPromtool, promtoolProblems, requirePromtool } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerFixtureServer } from '../test/docker-fixture.js';
import { createExporterApp } from './app.js';
import type { Collector } from './collector.js';
import { loadExporterConfig } from './config.js';
import { type RunningExporter, startExporter } from './server.js';

const silent = silentLogger();
const TOKEN = 'test-token-0123456789abcdef';

async function start(env: Record<string, string>): Promise<RunningExporter> {
  return startExporter(loadExporterConfig({ VIGIL_EXPORTER_LISTEN: '127.0.0.1:0', ...env }), silent);
}

/** Drops the lines whose values change from run to run, keeping their series names. */
function stable(exposition: string): string {
  return (
    exposition
      .split('\n')
      .filter((l) => !/^(# (HELP|TYPE) )?(process_|nodejs_)/.test(l))
      .map((l) =>
        l.replace(
          /^((?:vigil_exporter_collector_duration_seconds|node_scrape_collector_duration_seconds|container_last_seen|node_time_seconds|node_filesystem_(?:size|free|avail)_bytes|node_filesystem_files(?:_free)?)(?:\{[^}]*\})?) .*$/,
          '$1 <varies>',
        ),
      )
      .map((l) => l.replace(/^(node_uname_info\{.*)machine="[^"]*"/, '$1machine="<varies>"'))
      // The other trees read the machine's own /etc/os-release.
      .map((l) => (l.startsWith('node_os_info{') || l.startsWith('node_os_version{') ? l.replace(/="[^"]*"/g, '="<varies>"') : l))
      .map((l) => l.replace(/^(node_os_version\{.*\}) .*$/, '$1 <varies>'))
      // The machine's clock discipline and zone (adjtimex(2), TZ), and its udev database under rootfs /.
      .map((l) => l.replace(/^(node_timex_\w+) .*$/, '$1 <varies>'))
      .map((l) => l.replace(/^node_time_zone_offset_seconds\{.*$/, 'node_time_zone_offset_seconds{time_zone="<varies>"} <varies>'))
      .map((l) => (l.startsWith('node_disk_info{') ? l.replace(/(path|wwn|model|serial|revision)="[^"]*"/g, '$1="<varies>"') : l))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}

describe('exporter on the this-host fixture tree', () => {
  let exporter: RunningExporter;
  beforeAll(async () => {
    exporter = await start({ VIGIL_PROC: path.join(FIXTURES, 'this-host/proc'), VIGIL_ROOTFS: '/', VIGIL_EXPORTER_TOKEN: TOKEN });
  });
  afterAll(() => exporter.close());
  const get = (p: string, headers: Record<string, string> = {}) => fetch(`${exporter.url}${p}`, { headers });
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('answers /health without a token', async () => {
    const r = await get('/health');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ['the token without Bearer', { authorization: TOKEN }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }],
  ])('refuses /metrics with %s, and does not echo the token', async (_, headers) => {
    const r = await get('/metrics', headers);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = await r.text();
    expect(body).toMatch(/VIGIL_EXPORTER_TOKEN/);
    expect(body).not.toContain(TOKEN);
  });

  it('answers 404 in JSON for an unknown path', async () => {
    const r = await get('/nope', auth);
    expect(r.status).toBe(404);
  });

  it('passes promtool check metrics', async (ctx) => {
    requirePromtool();
    if (!hasPromtool) ctx.skip(); // only outside CI: Debian's prometheus package is not installed here
    const text = await (await get('/metrics', auth)).text();
    expect(promtoolProblems(text)).toEqual([]);
  });

  it('speaks OpenMetrics when asked', async () => {
    const r = await get('/metrics', { ...auth, accept: 'application/openmetrics-text; version=1.0.0' });
    expect(r.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    const text = await r.text();
    expect(text).toMatch(/# TYPE node_context_switches counter\nnode_context_switches_total \d+/);
    expect(text.endsWith('# EOF\n')).toBe(true);
    // ...and the shared families are untouched for the next text scrape.
    const again = await (await get('/metrics', auth)).text();
    expect(again).toMatch(/# TYPE node_context_switches_total counter\nnode_context_switches_total \d+/);
  });
});

describe.each([
  ['this-host', { VIGIL_PROC: 'this-host/proc', VIGIL_SYS: 'this-host/sys', VIGIL_ROOTFS: '/' }, false],
  // The Pi's tree was captured before the vmstat, filefd, entropy, sockstat, conntrack, softnet, arp, os, udp_queues, netclass, netstat, timex and selinux collectors: they are off for it.
  [
    'raspberry-pi',
    {
      VIGIL_PROC: 'raspberry-pi/proc',
      VIGIL_SYS: 'raspberry-pi/sys',
      VIGIL_ROOTFS: 'raspberry-pi/rootfs',
      VIGIL_DISABLED_COLLECTORS: 'vmstat,filefd,entropy,sockstat,conntrack,softnet,arp,os,udp_queues,netclass,netstat,timex,selinux',
    },
    false,
  ],
  // A cgroup v2 host (systemd driver) running one container, its Docker API answers captured.
  ['cgroup-v2', { VIGIL_PROC: 'this-host/proc', VIGIL_SYS: 'cgroup-v2/sys', VIGIL_ROOTFS: '/' }, true],
])('golden /metrics of the %s fixture tree', (name, tree, withDocker) => {
  let exporter: RunningExporter;
  let text: string;
  let dockerServer: { close(): Promise<void> } | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-golden-'));
  beforeAll(async () => {
    const inFixtures = (p: string) => (p === '/' ? p : path.join(FIXTURES, p));
    const env: Record<string, string> = {
      VIGIL_PROC: inFixtures(tree.VIGIL_PROC),
      VIGIL_SYS: inFixtures(tree.VIGIL_SYS),
      VIGIL_ROOTFS: inFixtures(tree.VIGIL_ROOTFS),
    };
    if ('VIGIL_DISABLED_COLLECTORS' in tree) env.VIGIL_DISABLED_COLLECTORS = tree.VIGIL_DISABLED_COLLECTORS;
    if (withDocker) {
      dockerServer = await dockerFixtureServer(path.join(FIXTURES, name), path.join(dir, 'docker.sock'));
      Object.assign(env, { DOCKER_HOST: `unix://${path.join(dir, 'docker.sock')}`, VIGIL_CONTAINER_LABELS: 'com.example.stack' });
    }
    exporter = await start(env);
    text = await (await fetch(`${exporter.url}/metrics`)).text();
  });
  afterAll(async () => {
    await exporter.close();
    await dockerServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('matches the committed output', () => {
    const golden = path.resolve(import.meta.dirname, `../test/golden/${name}.metrics`);
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, `${stable(text)}\n`);
    expect(stable(text)).toBe(readFileSync(golden, 'utf8').trim());
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).not.toMatch(/vigil_exporter_collector_success\{collector="[a-z]+"\} 0/);
    expect(text).not.toContain('fixture-secret'); // in the captured Env and Cmd, never in the output
  });

  it('passes promtool check metrics', (ctx) => {
    requirePromtool();
    if (!hasPromtool) ctx.skip(); // only outside CI: Debian's prometheus package is not installed here
    expect(promtoolProblems(text)).toEqual([]);
  });
});

describe('a collector whose source hangs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-hang-'));
  let exporter: RunningExporter;
  beforeAll(async () => {
    cpSync(path.join(FIXTURES, 'this-host/proc'), path.join(dir, 'proc'), { recursive: true });
    rmSync(path.join(dir, 'proc/loadavg'));
    execFileSync('mkfifo', [path.join(dir, 'proc/loadavg')]); // open() blocks until a writer comes
    exporter = await start({
      VIGIL_PROC: path.join(dir, 'proc'),
      VIGIL_COLLECTOR_TIMEOUT: '500ms',
      VIGIL_DISABLED_COLLECTORS: 'filesystem',
    });
  });
  afterAll(async () => {
    // Release the blocked reader so its thread returns to the pool.
    const fd = openSync(path.join(dir, 'proc/loadavg'), constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(fd);
    await exporter.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('still answers within the deadline plus a second, with that collector marked failed', async () => {
    const t0 = performance.now();
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    const seconds = (performance.now() - t0) / 1000;
    expect(seconds).toBeLessThan(0.5 + 1);
    expect(text).toContain('vigil_exporter_collector_success{collector="loadavg"} 0');
    expect(text).toContain('vigil_exporter_collector_success{collector="meminfo"} 1');
    expect(text).not.toMatch(/^node_load1 /m);
    expect(text).toMatch(/^node_memory_MemTotal_bytes \d+/m);
  });
});

describe('collection', () => {
  it('shares one collection between overlapping scrapes and isolates a failing collector', async () => {
    let runs = 0;
    const slow: Collector = {
      name: 'slow',
      async update(sink) {
        runs++;
        await new Promise((r) => setTimeout(r, 100));
        sink.gauge('test_slow', 'A slow gauge.').set({}, runs);
      },
    };
    const broken: Collector = {
      name: 'broken',
      async update() {
        throw new Error('cannot read /nonexistent');
      },
    };
    const app = createExporterApp({ collectors: [slow, broken], collectorTimeoutSeconds: 5, token: undefined, log: silent });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
    try {
      const bodies = await Promise.all([1, 2, 3].map(() => fetch(url).then((r) => r.text())));
      expect(runs).toBe(1);
      for (const b of bodies) {
        expect(b).toContain('test_slow 1');
        expect(b).toContain('vigil_exporter_collector_success{collector="broken"} 0');
        expect(b).toContain('vigil_exporter_collector_success{collector="slow"} 1');
      }
      await fetch(url);
      expect(runs).toBe(2); // a later scrape collects afresh
    } finally {
      server.close();
    }
  });
});

describe('the golden /metrics, read back by the exposition parser', () => {
  it('reads a real node_exporter-style page from the exporter golden file', () => {
    const golden = readFileSync(path.resolve(import.meta.dirname, '../test/golden/this-host.metrics'), 'utf8').replaceAll('<varies>', '0');
    const samples = parseExposition(golden);
    const sampleLines = golden.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples).toHaveLength(sampleLines.length);
    expect(indexSamples(samples).get('node_cpu_seconds_total')?.length).toBe(
      sampleLines.filter((l) => l.startsWith('node_cpu_seconds_total{')).length,
    );
  });
});

describe('a containers collector that finishes after its deadline', () => {
  it('says so in /containers, and its late snapshot never shows up in a later collection', async () => {
    let calls = 0;
    let lateFinished: () => void = () => {};
    const finished = new Promise<void>((r) => (lateFinished = r));
    const snapshot = (name: string) => ({
      info: {
        id: name,
        name,
        image: 'busybox',
        state: 'running',
        health: 'none' as const,
        restartCount: 0,
        startedAt: null,
        pid: null,
        labels: {},
      },
      cgroup: null,
      stats: null,
      network: [],
    });
    const containers: Collector = {
      name: 'containers',
      async update() {
        calls++;
        if (calls === 1) {
          await new Promise((r) => setTimeout(r, 300));
          lateFinished();
          return { containers: [snapshot('late')] };
        }
        return { containers: [] };
      },
    };
    const app = createExporterApp({ collectors: [containers], collectorTimeoutSeconds: 0.05, token: undefined, log: silent });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/containers`;
    try {
      const first = await (await fetch(url)).json();
      expect(first).toMatchObject({ containers: [], error: expect.stringMatching(/collector containers failed: .*deadline/) });
      await finished;
      const second = await (await fetch(url)).json();
      expect(second).toEqual({ containers: [], summary: { total: 0, running: 0, stopped: 0, unhealthy: 0 }, error: null });
    } finally {
      server.close();
    }
  });
});

describe('a malformed request', () => {
  it('is logged without its bytes or headers: the bearer token never reaches the log', async () => {
    const token = 'malformed-request-token-0123456789';
    const { log, lines, next } = captureLog();
    const seen = next();
    const app = createExporterApp({ collectors: [], collectorTimeoutSeconds: 1, token, log });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      const answer = new Promise<string>((r) => socket.once('data', (d) => r(String(d))));
      socket.write(
        `POST /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
      );
      expect(await answer).toMatch(/^HTTP\/1\.1 400/);
      socket.destroy();
      await seen;
      expect(lines.join('')).toMatch(/HPE_INVALID_CHUNK_SIZE/);
      expect(lines.join('')).not.toContain(token);
      expect(lines.join('')).not.toMatch(/rawPacket|authorization/i);
    } finally {
      server.close();
    }
  });
});
