import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@vigil/core/config';
import { silentLogger } from '@vigil/core/log';
import { FIXTURES, selfSignedCert } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExporterConfig } from './config.js';
import { type RunningExporter, startExporter } from './server.js';
import type { HostView, ServicesView, StatsView } from './views.js';

const silent = silentLogger();
const pi = {
  VIGIL_PROC: path.join(FIXTURES, 'raspberry-pi/proc'),
  VIGIL_SYS: path.join(FIXTURES, 'raspberry-pi/sys'),
  VIGIL_ROOTFS: path.join(FIXTURES, 'raspberry-pi/rootfs'),
  VIGIL_EXPORTER_LISTEN: '127.0.0.1:0',
};

describe('JSON views of the Raspberry Pi fixture', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-views-'));
  let exporter: RunningExporter;
  let web: http.Server;
  beforeAll(async () => {
    web = http.createServer((_, res) => res.end('ok'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const port = (web.address() as AddressInfo).port;
    writeFileSync(
      path.join(dir, 'services.yaml'),
      `services:\n  - { name: web, http: "http://127.0.0.1:${port}/" }\n  - { name: gone, tcp: "127.0.0.1:1", timeout: 1s }\n`,
    );
    exporter = await startExporter(
      loadExporterConfig({ ...pi, VIGIL_SERVICES_FILE: path.join(dir, 'services.yaml'), VIGIL_EXPORTER_TOKEN: 'views-token-0123456789' }),
      silent,
    );
  });
  afterAll(async () => {
    await exporter.close();
    web.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = async <T>(p: string) => {
    const r = await fetch(`${exporter.url}${p}`, { headers: { authorization: 'Bearer views-token-0123456789' } });
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    return (await r.json()) as T;
  };

  it('/host has the figures, in bytes and percent', async () => {
    const host = await get<HostView>('/host');
    expect(host.cpu).toEqual({ usagePercent: null, loadAverage: [0.52, 0.58, 0.59], cores: 4 }); // one collection: no usage yet
    expect(host.memory).toEqual({
      totalBytes: 3880256 * 1024,
      usedBytes: (3880256 - 3167840) * 1024,
      freeBytes: 1873456 * 1024,
      availableBytes: 3167840 * 1024,
      usagePercent: 18.36,
    });
    expect(host.temperature).toEqual({ cpuCelsius: 48.312, available: true });
    expect(host.disks.map((d) => d.mountPoint)).toEqual(['/', '/run', '/boot/firmware']);
    expect(host.disks[0]).toMatchObject({ device: '/dev/mmcblk0p2', fsType: 'ext4' });
    expect(host.disks[0]!.totalBytes).toBeGreaterThan(0);
    expect(host.network.interfaces).toEqual([
      { name: 'lo', rxBytes: 9876543, txBytes: 9876543, up: false },
      { name: 'eth0', rxBytes: 12345678901, txBytes: 2345678901, up: true },
      { name: 'wlan0', rxBytes: 0, txBytes: 0, up: false },
    ]);
    expect(host.system).toMatchObject({ hostname: 'pi-rack-1', platform: 'linux', kernelVersion: '6.1.0-rpi7-rpi-v8' });
    expect(host.system.uptimeSeconds).toBeGreaterThan(0);
  });

  it('/services and /stats come from the same collection', async () => {
    const services = await get<ServicesView>('/services');
    expect(services.allHealthy).toBe(false);
    expect(services.services.map((s) => [s.name, s.success])).toEqual([
      ['web', true],
      ['gone', false],
    ]);
    const stats = await get<StatsView>('/stats');
    expect(Object.keys(stats)).toEqual(['timestamp', 'host', 'containers', 'services']);
    expect(stats.containers).toEqual({ containers: [], summary: { total: 0, running: 0, stopped: 0, unhealthy: 0 }, error: null });
    expect(stats.timestamp).toBeCloseTo(Date.now() / 1000, -1);
  });

  it('needs the token like /metrics', async () => {
    for (const p of ['/stats', '/host', '/containers', '/services']) expect((await fetch(`${exporter.url}${p}`)).status).toBe(401);
  });
});

describe('TLS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves HTTPS with the given certificate', async () => {
    selfSignedCert(dir, '/CN=127.0.0.1', { days: 2 });
    const exporter = await startExporter(
      loadExporterConfig({ ...pi, VIGIL_TLS_CERT: path.join(dir, 'cert.pem'), VIGIL_TLS_KEY: path.join(dir, 'key.pem') }),
      silent,
    );
    try {
      expect(exporter.url).toMatch(/^https:\/\//);
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`${exporter.url}/metrics`, { rejectUnauthorized: false }, (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(b));
          })
          .on('error', reject);
      });
      expect(body).toMatch(/^node_load1 0\.52$/m);
    } finally {
      await exporter.close();
    }
  });

  it.each([
    [{ VIGIL_TLS_CERT: '/x.pem' }, /set both/],
    [
      { VIGIL_TLS_CERT: '/nonexistent/cert.pem', VIGIL_TLS_KEY: '/nonexistent/key.pem' },
      /VIGIL_TLS_CERT: cannot read \/nonexistent\/cert\.pem \(ENOENT\)/,
    ],
  ])('refuses %o clearly', async (env, message) => {
    await expect((async () => startExporter(loadExporterConfig({ ...pi, ...env }), silent))()).rejects.toThrow(ConfigError);
    await expect((async () => startExporter(loadExporterConfig({ ...pi, ...env }), silent))()).rejects.toThrow(message);
  });
});
