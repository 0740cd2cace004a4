import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { selfSignedCert } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServicesFile, parseServicesFile, probe, probeAll, ServicesFileError, servicesCollector } from './services.js';

const listen = async (server: net.Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

describe('parseServicesFile', () => {
  it('reads YAML and JSON with defaults', () => {
    const yaml =
      'services:\n  - name: web\n    http: https://nas.lan/health\n    timeout: 500ms\n    expectStatus: [200, 204]\n  - { name: db, tcp: "127.0.0.1:5432" }\n';
    expect(parseServicesFile(yaml, 'services.yaml')).toEqual([
      { name: 'web', http: 'https://nas.lan/health', timeout: 0.5, expectStatus: [200, 204], insecure: false },
      { name: 'db', tcp: '127.0.0.1:5432', timeout: 3, insecure: false },
    ]);
    expect(parseServicesFile('{"services": [{"name": "v6", "tcp": "[::1]:22", "timeout": 2}]}', 'services.json')).toEqual([
      { name: 'v6', tcp: '[::1]:22', timeout: 2, insecure: false },
    ]);
  });

  it.each([
    ['not YAML', 'services: [', /not valid YAML or JSON/],
    ['no services key', 'probes: []', /\(file\): .*services|Unrecognized key/],
    ['both http and tcp', 'services: [{name: a, http: "http://a/", tcp: "a:1"}]', /exactly one of http or tcp/],
    ['neither', 'services: [{name: a}]', /exactly one of http or tcp/],
    ['a bad URL', 'services: [{name: a, http: "ftp://a/"}]', /services\.0\.http: expected an http:\/\/ or https:\/\/ URL/],
    ['a bad host:port', 'services: [{name: a, tcp: "a"}]', /services\.0\.tcp: expected host:port/],
    ['a bad timeout', 'services: [{name: a, tcp: "a:1", timeout: forever}]', /services\.0\.timeout: expected a timeout/],
    ['a duplicate name', 'services: [{name: a, tcp: "a:1"}, {name: a, tcp: "a:2"}]', /unique/],
    ['an unknown field', 'services: [{name: a, tcp: "a:1", retries: 3}]', /retries/],
  ])('rejects %s, naming the file and the place', (_, text, message) => {
    expect(() => parseServicesFile(text, '/etc/vigil/services.yaml')).toThrow(ServicesFileError);
    expect(() => parseServicesFile(text, '/etc/vigil/services.yaml')).toThrow(message);
    expect(() => parseServicesFile(text, '/etc/vigil/services.yaml')).toThrow(/^\/etc\/vigil\/services\.yaml: /);
  });

  it('says when the file cannot be read', async () => {
    await expect(loadServicesFile('/nonexistent/services.yaml')).rejects.toThrow(
      /cannot read the services file \(ENOENT\); check VIGIL_SERVICES_FILE/,
    );
  });
});

describe('probes against real servers', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-probe-'));
  const servers: net.Server[] = [];
  let httpPort: number;
  let httpsPort: number;
  let tcpPort: number;
  let closedPort: number;
  let expiry: number;
  beforeAll(async () => {
    const h = http.createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.statusCode = req.url === '/fail' ? 503 : 200;
      res.end('ok');
    });
    servers.push(h);
    httpPort = await listen(h);
    const tls = selfSignedCert(dir, '/CN=localhost');
    expiry = tls.notAfter;
    const s = https.createServer({ key: tls.key, cert: tls.cert }, (_, res) => res.end('secure'));
    servers.push(s);
    httpsPort = await listen(s);
    const t = net.createServer((c) => c.end());
    servers.push(t);
    tcpPort = await listen(t);
    const gone = net.createServer();
    closedPort = await listen(gone);
    await new Promise((r) => gone.close(r));
  });
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cfg = (o: object) => ({ name: 'x', timeout: 1, insecure: false, ...o });

  it('HTTP: success on 2xx, failure on other codes unless expected', async () => {
    expect(await probe(cfg({ http: `http://127.0.0.1:${httpPort}/` }))).toMatchObject({
      success: true,
      statusCode: 200,
      error: null,
      sslEarliestCertExpiry: null,
    });
    expect(await probe(cfg({ http: `http://127.0.0.1:${httpPort}/fail` }))).toMatchObject({
      success: false,
      statusCode: 503,
      error: 'HTTP 503',
    });
    expect(await probe(cfg({ http: `http://127.0.0.1:${httpPort}/fail`, expectStatus: [503] }))).toMatchObject({
      success: true,
      statusCode: 503,
    });
  });

  it('HTTP: times out on its own deadline', async () => {
    const r = await probe(cfg({ http: `http://127.0.0.1:${httpPort}/slow`, timeout: 0.2 }));
    expect(r).toMatchObject({ success: false, error: 'timed out after 0.2 s' });
    expect(r.durationSeconds).toBeLessThan(1);
  });

  it('HTTPS: refuses a self-signed certificate, and reads its expiry when told to trust it', async () => {
    expect(await probe(cfg({ http: `https://127.0.0.1:${httpsPort}/` }))).toMatchObject({
      success: false,
      error: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    const ok = await probe(cfg({ http: `https://127.0.0.1:${httpsPort}/`, insecure: true }));
    expect(ok).toMatchObject({ success: true, statusCode: 200 });
    expect(ok.sslEarliestCertExpiry).toBe(expiry);
  });

  it('TCP: connects, or says why not', async () => {
    expect(await probe(cfg({ tcp: `127.0.0.1:${tcpPort}` }))).toMatchObject({ success: true, type: 'tcp' });
    expect(await probe(cfg({ tcp: `127.0.0.1:${closedPort}` }))).toMatchObject({ success: false, error: 'ECONNREFUSED' });
  });

  it('runs probes concurrently, bounded, in order, into blackbox series', async () => {
    const services = [
      cfg({ name: 'slow1', http: `http://127.0.0.1:${httpPort}/slow`, timeout: 0.3 }),
      cfg({ name: 'slow2', http: `http://127.0.0.1:${httpPort}/slow`, timeout: 0.3 }),
      cfg({ name: 'web', http: `http://127.0.0.1:${httpPort}/` }),
      cfg({ name: 'db', tcp: `127.0.0.1:${tcpPort}` }),
    ];
    const t0 = performance.now();
    const results = await probeAll(services, 4);
    expect((performance.now() - t0) / 1000).toBeLessThan(0.55); // concurrent, not 0.6 s in a row
    expect(results.map((r) => [r.name, r.success])).toEqual([
      ['slow1', false],
      ['slow2', false],
      ['web', true],
      ['db', true],
    ]);
    const sink = new MetricSink();
    const details = await servicesCollector(services, 4).update(sink, new AbortController().signal);
    expect(details?.probes?.map((p) => p.name)).toEqual(['slow1', 'slow2', 'web', 'db']);
    expect(sink.families.get('probe_success')?.values).toEqual([
      { labels: { service: 'slow1' }, value: 0 },
      { labels: { service: 'slow2' }, value: 0 },
      { labels: { service: 'web' }, value: 1 },
      { labels: { service: 'db' }, value: 1 },
    ]);
    expect(sink.families.get('probe_http_status_code')?.values.map((v) => v.labels.service)).toEqual(['slow1', 'slow2', 'web']); // not for tcp
  });
});
