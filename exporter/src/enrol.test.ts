import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENROL_TYPES, type EnrolAnswer, signEnrolAnswer, verifyHostMessage } from '@vigil/core/enrolment';
import { silentLogger } from '@vigil/core/log';
import { generateTicketKeys, importTicketPrivateKey } from '@vigil/core/pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Credentials } from './app.js';
import { type EnrolConfig, loadExporterConfig } from './config.js';
import {
  backoffSeconds,
  deregisterHost,
  EnrolRefusedError,
  enrolOnce,
  enrolWithRetry,
  exporterVersion,
  hostMetadata,
  loadEnrolment,
  loadIdentity,
  saveEnrolment,
} from './enrol.js';

/**
 * A console's enrolment route as far as an exporter can tell: it verifies the
 * signed request with core's verifyHostMessage (as the console does) and
 * answers as told, signed with its key when it has one.
 */
async function consoleDouble(
  answer: (claims: Record<string, unknown>, body: Record<string, unknown>) => { status: number; body: unknown },
) {
  const keys = await generateTicketKeys();
  const key = await importTicketPrivateKey(keys.privateKeyPem);
  const seen: { method: string; claims: Record<string, unknown>; body: Record<string, unknown> }[] = [];
  let failures = 0;
  const server = http.createServer(async (req, res) => {
    let text = '';
    for await (const c of req) text += c;
    if (failures > 0) {
      failures--;
      res.writeHead(502).end('bad gateway');
      return;
    }
    const jws = (req.headers.authorization ?? '').slice(7);
    const typ = req.method === 'DELETE' ? ENROL_TYPES.deregister : ENROL_TYPES.enrol;
    try {
      const m = await verifyHostMessage(jws, typ);
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      seen.push({ method: req.method!, claims: m.claims, body });
      if (req.method === 'DELETE') return void res.writeHead(204).end();
      const a = answer(m.claims, body);
      const signed = a.status < 300 ? await signEnrolAnswer(key, m.thumbprint, a.body as EnrolAnswer) : undefined;
      res
        .writeHead(a.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...(a.body as object), ...(signed ? { signed } : {}) }));
    } catch (e) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'signature', message: (e as Error).message } }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publicKeyPem: keys.publicKeyPem,
    seen,
    failNext: (n: number) => {
      failures = n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const ANSWER: EnrolAnswer = { target_id: 3, name: 'pi-1', credential: 'vgs_credential-of-pi-1', pending: false, created: true };

describe('enrolment from the exporter', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-enrol-'));
  let c: Awaited<ReturnType<typeof consoleDouble>>;
  beforeAll(async () => {
    c = await consoleDouble((claims, body) =>
      body.enrolment_token === 'vge_good' || claims.name === 'known'
        ? { status: 201, body: ANSWER }
        : { status: 403, body: { error: { code: 'token_used_up', message: 'the enrolment token "x" has enrolled its 2 hosts already' } } },
    );
  });
  afterAll(async () => {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = (over: Partial<EnrolConfig> = {}): EnrolConfig => ({
    consoleUrl: c.url,
    token: 'vge_good',
    name: 'pi-1',
    labels: { rack: 'a' },
    provider: 'home',
    region: 'attic',
    advertiseUrl: undefined,
    connect: false,
    stateDir: path.join(dir, 'state'),
    consolePublicKeyPem: null,
    ...over,
  });

  it('makes its identity once, kept private, and the same after a restart', async () => {
    const state = path.join(dir, 'id');
    const first = await loadIdentity(state);
    expect(first.created).toBe(true);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(state, 'identity.json')).mode & 0o777).toBe(0o600);
    const again = await loadIdentity(state);
    expect(again).toMatchObject({ created: false, identity: { thumbprint: first.identity.thumbprint } });
    writeFileSync(path.join(state, 'identity.json'), '{"kty":"RSA"}');
    await expect(loadIdentity(state)).rejects.toThrow(/identity.json is not this host's key .*move it away/);
  });

  it('says what it runs on', () => {
    const m = hostMetadata({ provider: 'home', region: undefined });
    expect(m).toMatchObject({ provider: 'home', arch: process.arch, exporter_version: exporterVersion() });
    expect(m).not.toHaveProperty('region');
    expect(m.cores).toBeGreaterThan(0);
    expect(m.memory_bytes).toBeGreaterThan(0);
    expect(m.os?.length).toBeGreaterThan(0);
    const root = mkdtempSync(path.join(dir, 'root-'));
    expect(hostMetadata({ provider: undefined, region: undefined }, root).os).toBe('linux');
    writeFileSync(path.join(root, 'os-release'), '');
    rmSync(path.join(root, 'os-release'));
    const etc = path.join(root, 'etc');
    mkdirSync(etc);
    writeFileSync(path.join(etc, 'os-release'), 'NAME=Test\nPRETTY_NAME="Test Linux 1"\n');
    expect(hostMetadata({ provider: undefined, region: undefined }, root).os).toBe('Test Linux 1');
  });

  it('enrols with a signed request, the token in the body, and keeps the answer (never the token)', async () => {
    const { identity } = await loadIdentity(path.join(dir, 'state'));
    const answer = await enrolOnce({ config: config(), identity, url: 'http://10.0.0.5:9110/metrics', metadata: hostMetadata(config()) });
    expect(answer).toMatchObject(ANSWER);
    const last = c.seen.at(-1)!;
    expect(last.body).toEqual({ enrolment_token: 'vge_good' });
    expect(last.claims).toMatchObject({ name: 'pi-1', url: 'http://10.0.0.5:9110/metrics', connect: false, labels: { rack: 'a' } });
    saveEnrolment(config().stateDir, { console_url: c.url, target_id: 3, name: 'pi-1', credential: answer.credential, pending: false });
    expect(loadEnrolment(config().stateDir, c.url)).toMatchObject({ target_id: 3, credential: ANSWER.credential });
    expect(loadEnrolment(config().stateDir, 'http://another-console')).toBeNull();
    expect(loadEnrolment(path.join(dir, 'nowhere'), c.url)).toBeNull();
    for (const f of ['identity.json', 'enrolment.json'])
      expect(readFileSync(path.join(config().stateDir, f), 'utf8')).not.toContain('vge_good');
    // Connecting out: no URL is sent.
    await enrolOnce({ config: config({ connect: true }), identity, url: 'http://ignored/metrics', metadata: {} });
    expect(c.seen.at(-1)!.claims).not.toHaveProperty('url');
  });

  it('checks the answer against a pinned console key, and refuses another', async () => {
    const { identity } = await loadIdentity(path.join(dir, 'state'));
    const input = { identity, url: 'http://h/metrics', metadata: {} };
    expect(await enrolOnce({ ...input, config: config({ consolePublicKeyPem: c.publicKeyPem }) })).toMatchObject(ANSWER);
    const other = await generateTicketKeys();
    await expect(enrolOnce({ ...input, config: config({ consolePublicKeyPem: other.publicKeyPem }) })).rejects.toThrow(
      /not signed by the pinned key \(VIGIL_CONSOLE_PUBLIC_KEY\)/,
    );
  });

  it('stops at a refusal, saying why, and tries again with backoff through failures', async () => {
    const { identity } = await loadIdentity(path.join(dir, 'state'));
    const err = await enrolOnce({ config: config({ token: 'vge_spent' }), identity, url: 'http://h/metrics', metadata: {} }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(EnrolRefusedError);
    expect(err).toMatchObject({ status: 403, code: 'token_used_up', message: 'the enrolment token "x" has enrolled its 2 hosts already' });
    // Two 502s, then it enrols: each wait is within its backoff window.
    c.failNext(2);
    const t0 = Date.now();
    const answer = await enrolWithRetry(
      { config: config({ name: 'known', token: undefined }), identity, url: 'http://h/metrics', metadata: {} },
      silentLogger(),
    );
    expect(answer.target_id).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500 + 1000);
    // A console that is not there: aborted while waiting.
    const abort = new AbortController();
    const gone = enrolWithRetry(
      { config: config({ consoleUrl: 'http://127.0.0.1:9' }), identity, url: 'http://h/metrics', metadata: {} },
      silentLogger(),
      abort.signal,
    );
    abort.abort(new Error('stopping'));
    await expect(gone).rejects.toThrow('stopping');
  });

  it('spreads retries: backoff doubles up to its cap, with jitter in the upper half', () => {
    expect(backoffSeconds(0, 1, 60, () => 0)).toBe(0.5);
    expect(backoffSeconds(0, 1, 60, () => 0.999)).toBeCloseTo(1, 2);
    expect(backoffSeconds(3, 1, 60, () => 0)).toBe(4);
    expect(backoffSeconds(30, 1, 60, () => 1)).toBe(60);
  });

  it('deregisters with a signed request and forgets the enrolment, keeping its key', async () => {
    const cfg = config();
    await deregisterHost(cfg);
    expect(c.seen.at(-1)!.method).toBe('DELETE');
    expect(loadEnrolment(cfg.stateDir, c.url)).toBeNull();
    expect((await loadIdentity(cfg.stateDir)).created).toBe(false);
    await expect(deregisterHost(config({ consoleUrl: 'http://127.0.0.1:9' }))).rejects.toThrow();
  });
});

describe('enrolment settings', () => {
  it('reads the console, token, name, labels and mode, and says what is wrong', () => {
    const c = loadExporterConfig({
      VIGIL_CONSOLE_URL: 'https://vigil.example.com/',
      VIGIL_ENROL_TOKEN: 'vge_a-token',
      VIGIL_HOST_NAME: 'pi-7',
      VIGIL_HOST_LABELS: 'rack=a, role=db',
      VIGIL_HOST_PROVIDER: 'home',
      VIGIL_CONNECT: '1',
      VIGIL_EXPORTER_LISTEN: ':9110',
    });
    expect(c.enrol).toMatchObject({
      consoleUrl: 'https://vigil.example.com',
      token: 'vge_a-token',
      name: 'pi-7',
      labels: { rack: 'a', role: 'db' },
      provider: 'home',
      connect: true,
      stateDir: '/var/lib/vigil-exporter',
      consolePublicKeyPem: null,
    });
    // An enrolled exporter needs no fleet token to listen beyond loopback: it has its own credential.
    expect(c.token).toBeUndefined();
    expect(loadExporterConfig({}).enrol).toBeNull();
    expect(loadExporterConfig({ VIGIL_CONSOLE_URL: 'http://c' }).enrol?.name.length).toBeGreaterThan(0);
    expect(() => loadExporterConfig({ VIGIL_ENROL_TOKEN: 'vge_a-token' })).toThrow(
      /VIGIL_CONSOLE_URL: unset, while VIGIL_ENROL_TOKEN is set/,
    );
    expect(() => loadExporterConfig({ VIGIL_CONNECT: '1' })).toThrow(/VIGIL_CONSOLE_URL: unset, while VIGIL_CONNECT is set/);
    expect(() => loadExporterConfig({ VIGIL_CONSOLE_URL: 'ftp://x' })).toThrow(/VIGIL_CONSOLE_URL/);
    expect(() => loadExporterConfig({ VIGIL_CONSOLE_URL: 'http://c', VIGIL_HOST_LABELS: 'rack' })).toThrow(
      /VIGIL_HOST_LABELS: "rack" is not name=value/,
    );
    expect(() => loadExporterConfig({ VIGIL_CONSOLE_URL: 'http://c', VIGIL_HOST_LABELS: 'job=x' })).toThrow(
      /VIGIL_HOST_LABELS: .*Vigil or Prometheus sets itself/,
    );
    expect(() => loadExporterConfig({ VIGIL_CONSOLE_URL: 'http://c', VIGIL_HOST_NAME: '-bad' })).toThrow(/VIGIL_HOST_NAME/);
    expect(() => loadExporterConfig({ VIGIL_CONSOLE_URL: 'http://c', VIGIL_STATE_DIR: 'relative' })).toThrow(
      /VIGIL_STATE_DIR: expected an absolute path/,
    );
  });
});

describe('Credentials', () => {
  it('accepts any of its tokens, none when empty but required, and forgets one set to undefined', () => {
    const c = new Credentials(true);
    expect(c.accepts('x')).toBe(false);
    c.set('token', 'fleet-token-0123456789');
    c.set('enrolled', 'vgs_own');
    expect(c.accepts('fleet-token-0123456789')).toBe(true);
    expect(c.accepts('vgs_own')).toBe(true);
    expect(c.accepts('vgs_other')).toBe(false);
    c.set('enrolled', undefined);
    expect(c.accepts('vgs_own')).toBe(false);
    expect(Credentials.of(undefined).required).toBe(false);
  });
});
