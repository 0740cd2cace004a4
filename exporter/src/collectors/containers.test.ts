import { randomBytes } from 'node:crypto';
import { parseExposition } from '@vigil/core/exposition';
import { silentLogger } from '@vigil/core/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_HOST, docker, dockerMissing, IMAGE } from '../../test/docker.js';
import { loadExporterConfig } from '../config.js';
import { DockerClient, DockerError, parseDockerHost } from '../docker/client.js';
import { ContainerCache } from '../docker/container-cache.js';
import { type RunningExporter, startExporter } from '../server.js';
import { containerLabelName } from './containers.js';

describe('parseDockerHost', () => {
  it.each([
    [undefined, { socketPath: '/var/run/docker.sock' }],
    ['unix:///tmp/d.sock', { socketPath: '/tmp/d.sock' }],
    ['tcp://10.0.0.5:2375', { host: '10.0.0.5', port: 2375 }],
  ])('%s', (v, expected) => expect(parseDockerHost(v)).toEqual(expected));
  it('refuses what it cannot use', () => {
    expect(() => parseDockerHost('ssh://user@host')).toThrow(DockerError);
    expect(() => loadExporterConfig({ DOCKER_HOST: 'ssh://user@host' })).toThrow(/DOCKER_HOST: expected unix:\/\/\/path/);
  });
  it('maps label keys as cAdvisor does', () => expect(containerLabelName('com.example.stack')).toBe('container_label_com_example_stack'));
  it('says when the Docker API is unreachable', async () => {
    const cache = new ContainerCache(new DockerClient('unix:///nonexistent/docker.sock', 500), { log: silentLogger() });
    await expect(cache.list()).rejects.toThrow(/Docker API unreachable \(ENOENT\); check DOCKER_HOST/);
    cache.stop();
  });
});

const missing = dockerMissing();

describe.skipIf(missing)(`containers against a real Docker engine${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const run = randomBytes(4).toString('hex');
  const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
  const names = {
    healthy: `vt-${run}-healthy`,
    unhealthy: `vt-${run}-unhealthy`,
    busy: `vt-${run}-busy`,
    stopped: `vt-${run}-stopped`,
    secret: `vt-${run}-secret`,
    unlabelled: `vt-${run}-unlabelled`,
  };
  const label = ['--label', `com.vigil.test=${run}`, '--label', 'com.vigil.stack=web'];
  let exporter: RunningExporter;
  const metrics = async () => parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
  const value = (samples: Awaited<ReturnType<typeof metrics>>, metric: string, name: string, extra: Record<string, string> = {}) =>
    samples.find((s) => s.name === metric && s.labels.name === name && Object.entries(extra).every(([k, v]) => s.labels[k] === v))?.value;

  beforeAll(async () => {
    const common = ['run', '-d', '--network', 'none'];
    docker(...common, '--name', names.healthy, ...label, '--health-cmd', 'true', '--health-interval', '1s', IMAGE, 'sleep', '300');
    docker(
      ...common,
      '--name',
      names.unhealthy,
      ...label,
      '--health-cmd',
      'false',
      '--health-interval',
      '1s',
      '--health-retries',
      '1',
      IMAGE,
      'sleep',
      '300',
    );
    docker(...common, '--name', names.busy, ...label, '--cpus', '0.3', '--memory', '32m', IMAGE, 'sh', '-c', 'yes > /dev/null');
    docker(...common, '--name', names.stopped, ...label, IMAGE, 'true');
    docker(...common, '--name', names.secret, ...label, '-e', `DB_PASSWORD=${secret}`, IMAGE, 'sh', '-c', `sleep 300; echo ${secret}`);
    docker(...common, '--name', names.unlabelled, IMAGE, 'sleep', '300');
    exporter = await startExporter(
      loadExporterConfig({
        VIGIL_EXPORTER_LISTEN: '127.0.0.1:0',
        DOCKER_HOST,
        VIGIL_CONTAINER_LABEL: `com.vigil.test=${run}`,
        VIGIL_CONTAINER_LABELS: 'com.vigil.stack',
      }),
      silentLogger(),
    );
  }, 60_000);
  afterAll(async () => {
    await exporter?.close();
    for (const n of Object.values(names)) {
      try {
        docker('rm', '-f', n);
      } catch {
        // removed by a test already
      }
    }
  });

  it('reports state, health and restarts; the unlabelled container is absent', async () => {
    let samples = await metrics();
    for (
      let i = 0;
      i < 100 &&
      (value(samples, 'vigil_container_health_status', names.unhealthy, { status: 'unhealthy' }) !== 1 ||
        value(samples, 'vigil_container_health_status', names.healthy, { status: 'healthy' }) !== 1);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 200));
      samples = await metrics();
    }
    expect(value(samples, 'vigil_container_health_status', names.healthy, { status: 'healthy' })).toBe(1);
    expect(value(samples, 'vigil_container_health_status', names.unhealthy, { status: 'unhealthy' })).toBe(1);
    expect(value(samples, 'vigil_container_health_status', names.busy, { status: 'none' })).toBe(1);
    expect(value(samples, 'vigil_container_state', names.stopped, { state: 'exited' })).toBe(1);
    expect(value(samples, 'vigil_container_state', names.busy, { state: 'running' })).toBe(1);
    expect(value(samples, 'vigil_container_restarts', names.busy)).toBe(0);
    expect(samples.some((s) => s.labels.name === names.unlabelled)).toBe(false);
    // Only the allowed label is exported; the filter label is not.
    const busy = samples.find((s) => s.name === 'vigil_container_state' && s.labels.name === names.busy)!;
    expect(busy.labels[containerLabelName('com.vigil.stack')]).toBe('web');
    expect(busy.labels[containerLabelName('com.vigil.test')]).toBeUndefined();
    // A stopped container has no resource series.
    expect(value(samples, 'container_memory_usage_bytes', names.stopped)).toBeUndefined();
  }, 30_000);

  it('reads resource figures from cgroups, and they move', async () => {
    const a = await metrics();
    await new Promise((r) => setTimeout(r, 1500));
    const b = await metrics();
    const cpuA = value(a, 'container_cpu_usage_seconds_total', names.busy, { cpu: 'total' })!;
    const cpuB = value(b, 'container_cpu_usage_seconds_total', names.busy, { cpu: 'total' })!;
    expect(cpuB - cpuA).toBeGreaterThan(0.1); // 0.3 CPU for 1.5 s ≈ 0.45 s
    expect(cpuB - cpuA).toBeLessThan(1.5);
    expect(value(b, 'container_cpu_cfs_throttled_periods_total', names.busy)).toBeGreaterThan(0);
    expect(value(b, 'container_spec_memory_limit_bytes', names.busy)).toBe(32 * 1024 * 1024);
    expect(value(b, 'container_spec_cpu_quota', names.busy)).toBe(30000);
    expect(value(b, 'container_memory_working_set_bytes', names.busy)).toBeGreaterThan(0);
    expect(value(b, 'container_processes', names.busy)).toBeGreaterThanOrEqual(1);
    const started = Date.parse(docker('inspect', '-f', '{{.State.StartedAt}}', names.busy)) / 1000;
    expect(value(b, 'container_start_time_seconds', names.busy)).toBeCloseTo(started, 0);
  });

  it("never shows a container's environment or command, on any endpoint", async () => {
    for (const p of ['/metrics', '/stats', '/containers', '/host', '/services', '/health']) {
      const text = await (await fetch(`${exporter.url}${p}`)).text();
      if (p === '/metrics' || p === '/containers') expect(text).toContain(names.secret);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('DB_PASSWORD');
    }
  });

  it('/containers gives the same containers, with a summary', async () => {
    const view = (await (await fetch(`${exporter.url}/containers`)).json()) as import('../views.js').ContainersView;
    const byName = new Map(view.containers.map((c) => [c.name, c]));
    expect(byName.has(names.unlabelled)).toBe(false);
    expect(byName.get(names.stopped)).toMatchObject({ state: 'exited', cpuUsageSeconds: null });
    expect(byName.get(names.busy)).toMatchObject({
      state: 'running',
      memoryLimitBytes: 32 * 1024 * 1024,
      labels: { 'com.vigil.stack': 'web' },
    });
    expect(byName.get(names.busy)!.cpuUsageSeconds).toBeGreaterThan(0);
    expect(view.summary.total).toBe(view.containers.length);
    expect(view.summary.stopped).toBeGreaterThanOrEqual(1);
    expect(view.summary.unhealthy).toBe(1);
  });

  it('drops the series of a removed container on a later scrape', async () => {
    docker('rm', '-f', names.healthy);
    let samples = await metrics();
    for (let i = 0; i < 50 && samples.some((s) => s.labels.name === names.healthy); i++) {
      await new Promise((r) => setTimeout(r, 100));
      samples = await metrics();
    }
    expect(samples.some((s) => s.labels.name === names.healthy)).toBe(false);
    expect(samples.some((s) => s.labels.name === names.unhealthy)).toBe(true);
  });
});
