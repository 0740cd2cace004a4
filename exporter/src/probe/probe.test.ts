import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { parseExposition } from '@vigil/core/exposition';
import { silentLogger } from '@vigil/core/log';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { RE2JS } from 're2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExporterConfig } from '../config.js';
import { type RunningExporter, startExporter } from '../server.js';
import { ProbeAllowList, probeRefusal } from './allow.js';
import {
  DEFAULT_MODULES,
  type HttpProbeModule,
  ModulesFileError,
  parseByteSize,
  parseModulesFile,
  probeTimeout,
  type TcpProbeModule,
} from './modules.js';
import { ipAddrHash, ipBytes, runProbe } from './prober.js';

const valuesOf = (sink: MetricSink) => {
  const out = new Map<string, number>();
  for (const f of sink.families.values())
    for (const s of f.values) out.set(f.name + (s.labels.phase ? `{${s.labels.phase}}` : ''), s.value);
  return out;
};

describe('modules file', () => {
  it('reads Debian’s example blackbox.yml: http and tcp modules, the others kept as unsupported with a reason', () => {
    const text = readFileSync(path.join(FIXTURES, 'blackbox', 'debian-blackbox.yml'), 'utf8');
    const modules = parseModulesFile(text, 'blackbox.yml');
    expect(modules.get('http_post_2xx')).toMatchObject({ prober: 'http', http: { method: 'POST' } });
    expect(modules.get('pop3s_banner')).toMatchObject({ prober: 'tcp', tcp: { tls: true } });
    expect(modules.get('irc_banner')).toMatchObject({ prober: 'tcp' });
    expect(modules.get('icmp_ttl5')).toEqual({
      name: 'icmp_ttl5',
      prober: 'unsupported',
      reason: 'module icmp_ttl5 uses the icmp prober, which Vigil does not implement (http and tcp only)',
    });
    expect(modules.get('grpc')?.prober).toBe('unsupported');
  });

  it.each([
    [
      'a setting Vigil lacks',
      'modules:\n  m:\n    prober: http\n    http:\n      oauth2: {}\n',
      /modules\.m\.http: Unrecognized key: "oauth2"/,
    ],
    [
      'a regular expression RE2 refuses',
      'modules:\n  m:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: ["(?<=x)y"]\n',
      /modules\.m\.http\.fail_if_body_matches_regexp\.0: not a valid RE2 regular expression/,
    ],
    ['a bad timeout', 'modules:\n  m:\n    prober: tcp\n    timeout: forever\n', /modules\.m\.timeout: expected a duration/],
    [
      'a bad body limit',
      'modules:\n  m:\n    prober: http\n    http:\n      body_size_limit: lots\n',
      /body_size_limit "lots": expected bytes/,
    ],
    ['no modules map', 'probes: []\n', /expected a blackbox_exporter configuration with a "modules:" map/],
    ['not YAML', 'modules: [\n', /not valid YAML/],
  ])('refuses %s, naming the place', (_, text, message) => {
    expect(() => parseModulesFile(text, 'b.yml')).toThrow(ModulesFileError);
    expect(() => parseModulesFile(text, 'b.yml')).toThrow(message);
  });

  it('reads byte sizes and timeouts as blackbox does', () => {
    expect(parseByteSize('1MB')).toBe(1e6);
    expect(parseByteSize('512KiB')).toBe(524288);
    expect(parseByteSize(100)).toBe(100);
    expect(parseByteSize(undefined)).toBe(0);
    expect(probeTimeout(undefined, undefined)).toBe(9.5);
    expect(probeTimeout(undefined, '3')).toBe(2.5);
    expect(probeTimeout(1, '3')).toBe(1);
    expect(probeTimeout(5, '3')).toBe(2.5);
    expect(probeTimeout(undefined, 'soon')).toBe(9.5);
  });
});

describe('allow-list', () => {
  it('allows names exactly, domains by suffix, addresses by range', () => {
    const a = new ProbeAllowList('nas.lan, *.home.arpa, 10.0.0.0/8, fd00::/8, 192.0.2.7');
    expect(a.allows('nas.lan', '203.0.113.9')).toBe(true);
    expect(a.allows('NAS.lan', '203.0.113.9')).toBe(true);
    expect(a.allows('printer.home.arpa', '203.0.113.9')).toBe(true);
    expect(a.allows('home.arpa', '203.0.113.9')).toBe(false);
    expect(a.allows('evilhome.arpa', '203.0.113.9')).toBe(false);
    expect(a.allows('anything', '10.1.2.3')).toBe(true);
    expect(a.allows('anything', '192.0.2.7')).toBe(true);
    expect(a.allows('anything', '192.0.2.8')).toBe(false);
    expect(a.allows('anything', 'fd12::1')).toBe(true);
    expect(a.allows('169.254.169.254', '169.254.169.254')).toBe(false);
  });

  it('allows a link-local or metadata address only by its range, never by a name that resolves there', () => {
    const byName = new ProbeAllowList('nas.lan, *.lan, 169.254.169.254');
    expect(byName.allows('metadata.lan', '169.254.169.253')).toBe(false);
    expect(byName.allows('nas.lan', 'fe80::1')).toBe(false);
    expect(byName.allows('nas.lan', 'fd00:ec2::254')).toBe(false);
    expect(byName.allows('metadata.lan', '169.254.169.254')).toBe(true);
    expect(new ProbeAllowList('*.lan').allows('imds.lan', '::ffff:169.254.169.254')).toBe(false);
    expect(probeRefusal('metadata.lan', '169.254.169.253')).toMatch(
      /link-local or cloud metadata address; list it in VIGIL_PROBE_ALLOW as an address or a CIDR range/,
    );
    expect(probeRefusal('web.example', '203.0.113.9')).toBe('web.example (203.0.113.9) is not in VIGIL_PROBE_ALLOW');
  });

  it.each(['10.0.0.0/33', '10.0.0.0/', 'exa mple', '*.', 'http://x/'])('refuses the entry %j', (entry) => {
    expect(() => new ProbeAllowList(entry)).toThrow(/expected a host name|bad prefix length/);
  });

  it('is a configuration error in VIGIL_PROBE_ALLOW', () => {
    expect(() => loadExporterConfig({ VIGIL_PROBE_ALLOW: '10.0.0.0/40' })).toThrow(/VIGIL_PROBE_ALLOW.*bad prefix length/s);
  });
});

describe('probe_ip_addr_hash', () => {
  it('hashes the address’s bytes as blackbox_exporter (FNV-1a over 4 or 16 bytes)', () => {
    expect(ipAddrHash('127.0.0.1')).toBe(3668918509); // blackbox_exporter 0.23's value for 127.0.0.1
    expect(ipBytes('::1')).toEqual([...new Array(15).fill(0), 1]);
    expect(ipBytes('2001:db8::8:800:200c:417a')).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a]);
    expect(ipBytes('::ffff:192.0.2.1')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
    expect(() => ipBytes('nas.lan')).toThrow(/not an IP address/);
  });
});

describe('probers against local servers', () => {
  const servers: net.Server[] = [];
  let port = 0;
  let silentPort = 0;
  let bannerPort = 0;
  let closingPort = 0;
  beforeAll(async () => {
    const listen = async (s: net.Server) => {
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return (s.address() as AddressInfo).port;
    };
    port = await listen(
      http.createServer((req, res) => {
        if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
        if (req.url === '/away') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        if (req.url === '/big') return void res.end('x'.repeat(4096));
        res.end('ok');
      }),
    );
    // Accepts, then says nothing.
    silentPort = await listen(net.createServer(() => {}));
    // Says its line and hangs up.
    closingPort = await listen(net.createServer((c) => c.end('220 mail.lan ESMTP ready\r\n')));
    bannerPort = await listen(
      net.createServer((c) => {
        c.write('* OK ready, token=abc123\r\n');
        c.on('data', (d) => {
          if (String(d) === 'LOGIN abc123\n') c.end('+ welcome\n');
        });
      }),
    );
  });
  afterAll(() => {
    for (const s of servers) s.close();
  });
  const http2xx = DEFAULT_MODULES.get('http_2xx') as HttpProbeModule;
  const tcp = DEFAULT_MODULES.get('tcp_connect') as TcpProbeModule;
  const allowLocal = new ProbeAllowList('127.0.0.0/8');

  it('refuses a redirect to an address the allow-list does not have, after reaching an allowed one', async () => {
    const sink = new MetricSink();
    const r = await runProbe(`http://127.0.0.1:${port}/away`, http2xx, allowLocal, sink, {}, 2);
    expect(r).toMatchObject({
      success: false,
      error:
        '169.254.169.254 (169.254.169.254) is a link-local or cloud metadata address; list it in VIGIL_PROBE_ALLOW as an address or a CIDR range to probe it (reached by redirect 1)',
    });
    expect(valuesOf(sink).get('probe_http_redirects')).toBe(1);
  });

  it('stops after 10 redirects', async () => {
    const r = await runProbe(`http://127.0.0.1:${port}/loop`, http2xx, allowLocal, new MetricSink(), {}, 2);
    expect(r).toMatchObject({ success: false, error: 'stopped after 10 redirects' });
  });

  it('fails a body over body_size_limit, and a target that is not a URL', async () => {
    const limited = { ...http2xx, http: { ...http2xx.http, body_size_limit: 1000 } };
    const r = await runProbe(`http://127.0.0.1:${port}/big`, limited, allowLocal, new MetricSink(), {}, 2);
    expect(r).toMatchObject({ success: false, error: "body is over the module's body_size_limit of 1000 bytes" });
    const bad = await runProbe('http://[::1', http2xx, allowLocal, new MetricSink(), {}, 2);
    expect(bad).toMatchObject({ success: false, error: 'target "http://[::1" is not a URL' });
  });

  it('times out a banner that never comes, within its timeout, reporting it', async () => {
    const banner = { ...tcp, tcp: { ...tcp.tcp, query_response: [{ expect: RE2JS.compile('^SSH-') }] } };
    const sink = new MetricSink();
    const t0 = performance.now();
    const r = await runProbe(`127.0.0.1:${silentPort}`, banner, allowLocal, sink, {}, 0.3);
    expect(r).toMatchObject({ success: false, error: 'timed out after 0.3 s' });
    expect(performance.now() - t0).toBeLessThan(5000); // the deadline, not the server, ended it
    expect(valuesOf(sink).get('probe_success')).toBe(0);
  });

  it('sends what query_response says, with the last match’s first group', async () => {
    const m = {
      ...tcp,
      tcp: {
        ...tcp.tcp,
        query_response: [
          { expect: RE2JS.compile('token=([a-z0-9]+)') },
          { send: `LOGIN \${1}` },
          { expect: RE2JS.compile('^\\+ welcome') },
        ],
      },
    };
    expect(await runProbe(`127.0.0.1:${bannerPort}`, m, allowLocal, new MetricSink(), {}, 2)).toMatchObject({ success: true, error: null });
    const wrong = { ...m, tcp: { ...m.tcp, query_response: [{ expect: RE2JS.compile('^SSH-') }] } };
    const sink = new MetricSink();
    // A connection closed before the expected line is a regex failure (a deadline is not, as blackbox_exporter).
    expect(await runProbe(`127.0.0.1:${closingPort}`, wrong, allowLocal, sink, {}, 2)).toMatchObject({
      success: false,
      error: 'connection closed before a line matched ^SSH-',
    });
    expect(valuesOf(sink).get('probe_failed_due_to_regex')).toBe(1);
  });

  it('names a TCP target that is not host:port', async () => {
    expect(await runProbe('nas.lan', tcp, allowLocal, new MetricSink(), {}, 1)).toMatchObject({
      error: 'target "nas.lan": expected host:port',
    });
  });
});

describe('GET /probe', () => {
  let open: RunningExporter;
  let closed: RunningExporter;
  let target: http.Server;
  let targetUrl = '';
  beforeAll(async () => {
    target = http.createServer((_, res) => res.end('ok'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
    open = await startExporter(
      loadExporterConfig({ VIGIL_EXPORTER_LISTEN: '127.0.0.1:0', VIGIL_PROBE_ALLOW: '127.0.0.1', VIGIL_DISABLED_COLLECTORS: 'containers' }),
      silentLogger(),
    );
    closed = await startExporter(
      loadExporterConfig({ VIGIL_EXPORTER_LISTEN: '127.0.0.1:0', VIGIL_DISABLED_COLLECTORS: 'containers' }),
      silentLogger(),
    );
  });
  afterAll(async () => {
    await open.close();
    await closed.close();
    target.close();
  });

  it('probes an allowed target with the default module, as blackbox_exporter answers', async () => {
    const r = await fetch(`${open.url}/probe?target=${encodeURIComponent(targetUrl)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const samples = new Map(parseExposition(await r.text()).map((s) => [s.name, s.value]));
    expect(samples.get('probe_success')).toBe(1);
    expect(samples.get('probe_http_status_code')).toBe(200);
  });

  it.each([
    ['no target', '/probe', 400, /the target parameter is missing/],
    ['an unknown module', `/probe?module=nope&target=x`, 400, /unknown module "nope"; known: http_2xx, http_post_2xx, tcp_connect/],
  ])('answers %s with %i, saying what to do', async (_, p, status, message) => {
    const r = await fetch(open.url + p);
    expect(r.status).toBe(status);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it('refuses every target without VIGIL_PROBE_ALLOW (no open proxy), and a disallowed one with probe_success 0', async () => {
    const r = await fetch(`${closed.url}/probe?target=${encodeURIComponent(targetUrl)}`);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/VIGIL_PROBE_ALLOW/);
    const other = await fetch(`${open.url}/probe?target=${encodeURIComponent('http://127.0.0.2:9/')}`);
    expect(other.status).toBe(200);
    expect(new Map(parseExposition(await other.text()).map((s) => [s.name, s.value])).get('probe_success')).toBe(0);
  });
});
