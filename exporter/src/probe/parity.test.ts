/**
 * Vigil's /probe beside Debian's blackbox_exporter: the same modules file,
 * the same targets (local HTTP, HTTPS and TCP servers), asked at once. The
 * series names, types and label keys must be the same, and the values that
 * do not depend on timing must agree.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseFamilies, type ScrapedFamily } from '@vigil/core/exposition';
import { silentLogger } from '@vigil/core/log';
import { freePort, hasCommand, requireCommand, selfSignedCert, until } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExporterConfig } from '../config.js';
import { type RunningExporter, startExporter } from '../server.js';

const BLACKBOX = 'prometheus-blackbox-exporter';

const MODULES = `modules:
  http_2xx:
    prober: http
  http_ip4:
    prober: http
    http:
      preferred_ip_protocol: ip4
  http_insecure:
    prober: http
    http:
      tls_config:
        insecure_skip_verify: true
  http_verified:
    prober: http
  http_no_redirect:
    prober: http
    http:
      follow_redirects: false
  http_body_must_match:
    prober: http
    http:
      fail_if_body_not_matches_regexp: ["vigil-[0-9]+"]
  http_body_must_not_match:
    prober: http
    http:
      fail_if_body_matches_regexp: ["hello"]
  http_header:
    prober: http
    http:
      fail_if_header_not_matches:
        - header: Content-Type
          regexp: "^text/plain"
  http_post_2xx:
    prober: http
    http:
      method: POST
      valid_status_codes: [201]
  tcp_connect:
    prober: tcp
  ssh_banner:
    prober: tcp
    tcp:
      query_response:
        - expect: "^SSH-2.0-"
        - send: "SSH-2.0-blackbox-ssh-check"
  tls_connect:
    prober: tcp
    tcp:
      tls: true
      tls_config:
        insecure_skip_verify: true
`;

/** Series whose values do not depend on timing: they must agree exactly. */
const SAME_VALUE = [
  'probe_success',
  'probe_http_status_code',
  'probe_http_content_length',
  'probe_http_uncompressed_body_length',
  'probe_http_redirects',
  'probe_http_ssl',
  'probe_http_version',
  'probe_http_last_modified_timestamp_seconds',
  'probe_ip_protocol',
  'probe_ip_addr_hash',
  'probe_failed_due_to_regex',
  'probe_tls_version_info',
  'probe_ssl_earliest_cert_expiry',
  'probe_ssl_last_chain_info',
];

const keyOf = (labels: Record<string, string>) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

describe('parity with Debian’s blackbox_exporter on /probe', () => {
  const have = hasCommand(BLACKBOX);
  const need = (ctx: { skip(note: string): void }) => requireCommand(BLACKBOX, 'prometheus-blackbox-exporter', (note) => ctx.skip(note));
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-blackbox-'));
  const servers: net.Server[] = [];
  let blackbox: ChildProcess | undefined;
  let blackboxUrl = '';
  let vigil: RunningExporter;
  const ports = { http: 0, https: 0, ssh: 0 };

  beforeAll(async () => {
    if (!have) return;
    const tls = selfSignedCert(dir, '/O=Vigil Test/CN=localhost', { altNames: ['localhost', 'vigil.test'] });
    const handler: http.RequestListener = (req, res) => {
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/' }).end();
      if (req.url === '/missing') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      if (req.url === '/gzip') {
        const body = gzipSync(Buffer.from('hello vigil-42, compressed '.repeat(20)));
        return void res
          .writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain', 'content-length': body.length })
          .end(body);
      }
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.write('chunk one, ');
        return void res.end('chunk two');
      }
      if (req.method === 'POST') return void res.writeHead(201, { 'content-type': 'text/plain' }).end('created');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'last-modified': 'Tue, 24 Nov 2026 10:00:00 GMT' });
      res.end('hello vigil-42\n');
    };
    const listen = async (s: net.Server) => {
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return (s.address() as AddressInfo).port;
    };
    ports.http = await listen(http.createServer(handler));
    ports.https = await listen(https.createServer({ key: tls.key, cert: tls.cert }, handler));
    ports.ssh = await listen(net.createServer((c) => c.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')));
    writeFileSync(path.join(dir, 'blackbox.yml'), MODULES);
    const port = await freePort();
    blackbox = spawn(BLACKBOX, [`--config.file=${path.join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: 'ignore',
    });
    blackboxUrl = `http://127.0.0.1:${port}`;
    await until('blackbox_exporter to answer', 10, async () => (await fetch(`${blackboxUrl}/-/healthy`)).ok);
    vigil = await startExporter(
      loadExporterConfig({
        VIGIL_EXPORTER_LISTEN: '127.0.0.1:0',
        VIGIL_PROBE_MODULES_FILE: path.join(dir, 'blackbox.yml'),
        VIGIL_PROBE_ALLOW: '127.0.0.0/8,localhost',
        VIGIL_DISABLED_COLLECTORS: 'containers',
      }),
      silentLogger(),
    );
  }, 30_000);
  afterAll(async () => {
    blackbox?.kill();
    await vigil?.close();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const probeBoth = async (module: string, target: string) => {
    const q = `/probe?module=${module}&target=${encodeURIComponent(target)}`;
    // As Prometheus asks: with its scrape timeout, which both take half a second off.
    const headers = { 'x-prometheus-scrape-timeout-seconds': '2' };
    const [a, b] = await Promise.all([
      fetch(blackboxUrl + q, { headers }).then((r) => r.text()),
      fetch(vigil.url + q, { headers }).then((r) => r.text()),
    ]);
    if (process.env.DEBUG_PARITY)
      console.log(
        `${module} ${target}\n--- blackbox\n${a
          .split('\n')
          .filter((l) => !l.startsWith('#'))
          .join('\n')}\n--- vigil\n${b
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .join('\n')}`,
      );
    return { theirs: new Map(parseFamilies(a).map((f) => [f.name, f])), ours: new Map(parseFamilies(b).map((f) => [f.name, f])) };
  };

  const cases: [string, (p: typeof ports) => string, number][] = [
    ['http_2xx', (p) => `http://127.0.0.1:${p.http}/`, 1],
    ['http_ip4', (p) => `http://localhost:${p.http}/`, 1],
    ['http_2xx', (p) => `http://127.0.0.1:${p.http}/redirect`, 1],
    ['http_no_redirect', (p) => `http://127.0.0.1:${p.http}/redirect`, 0],
    ['http_2xx', (p) => `http://127.0.0.1:${p.http}/missing`, 0],
    ['http_2xx', (p) => `http://127.0.0.1:${p.http}/gzip`, 1],
    ['http_2xx', (p) => `http://127.0.0.1:${p.http}/chunked`, 1],
    ['http_body_must_match', (p) => `http://127.0.0.1:${p.http}/`, 1],
    ['http_body_must_match', (p) => `http://127.0.0.1:${p.http}/chunked`, 0],
    ['http_body_must_not_match', (p) => `http://127.0.0.1:${p.http}/`, 0],
    ['http_header', (p) => `http://127.0.0.1:${p.http}/`, 1],
    ['http_header', (p) => `http://127.0.0.1:${p.http}/chunked`, 0],
    ['http_post_2xx', (p) => `http://127.0.0.1:${p.http}/`, 1],
    ['http_insecure', (p) => `https://127.0.0.1:${p.https}/`, 1],
    ['http_verified', (p) => `https://localhost:${p.https}/`, 0],
    ['tcp_connect', (p) => `127.0.0.1:${p.http}`, 1],
    ['ssh_banner', (p) => `127.0.0.1:${p.ssh}`, 1],
    ['ssh_banner', (p) => `127.0.0.1:${p.http}`, 0],
    ['tls_connect', (p) => `127.0.0.1:${p.https}`, 1],
  ];

  it.for(cases)('module %s: same series, types, label keys and values', async ([module, target, success], ctx) => {
    need(ctx);
    const { theirs, ours } = await probeBoth(module, target(ports));
    expect(ours.get('probe_success')?.samples[0]?.value).toBe(success);
    expect(theirs.get('probe_success')?.samples[0]?.value).toBe(success);
    const shape = (m: Map<string, ScrapedFamily>) =>
      [...m.values()]
        .map((f) => `${f.name} ${f.type} ${[...new Set(f.samples.map((s) => Object.keys(s.labels).sort().join(',')))].join(' ')}`)
        .sort();
    expect(shape(ours)).toEqual(shape(theirs));
    for (const name of SAME_VALUE) {
      const t = theirs.get(name);
      if (!t) continue;
      const mine = new Map(ours.get(name)!.samples.map((s) => [keyOf(s.labels), s.value]));
      for (const s of t.samples)
        expect({ name, labels: keyOf(s.labels), value: mine.get(keyOf(s.labels)) }).toEqual({
          name,
          labels: keyOf(s.labels),
          value: s.value,
        });
    }
  });
});
