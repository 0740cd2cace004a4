import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, httpServer, packageBin } from '@vigil/core/testing';
import {
  addChannel,
  addTarget,
  createApiKey,
  createDb,
  createEnrolmentToken,
  createSession,
  createUser,
  type Database,
  migrateToLatest,
  revokeApiKey,
  startEmbeddedPostgres,
} from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inProcess } from './kit.js';

// The built console, started as hosts run it, against a real database: every
// route × every kind of caller, decided by the server alone.

type Caller = 'nobody' | 'viewer' | 'developer' | 'operator' | 'admin' | 'expired' | 'revoked-key' | 'viewer-key' | 'admin-key';
const ROLES = ['viewer', 'developer', 'operator', 'admin'] as const;
type Role = (typeof ROLES)[number];

/** A database the console can reach over the wire: TEST_DATABASE_URL's server, else embedded PGlite served on loopback. */
async function database(): Promise<{ url: string; close(): Promise<void> }> {
  const pg = testDatabases().find((e) => e.name === 'postgres');
  if (pg) {
    const { db, url, drop } = await pg.open();
    await db.destroy();
    return { url, close: drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-access-'));
  const server = await startEmbeddedPostgres(dir);
  return {
    url: server.url,
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `vigil-console` and resolves with its URL once it listens. */
async function startConsole(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; output: string[] }> {
  const port = await freePort();
  const child = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
    env: { ...process.env, ...env, VIGIL_CONSOLE_LISTEN: `127.0.0.1:${port}`, VIGIL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      output.push(l);
      if (l.startsWith('console listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`vigil-console exited with ${code}:\n${output.join('\n')}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, output };
}

// Twice: through the built console's HTTP server (what hosts run), and in this
// process through the same hook and endpoints (what coverage sees); pages and
// the sign-in form only through the built console.
describe.each(['built console', 'in process'] as const)('who may do what, route by route (%s)', (transport) => {
  const built = transport === 'built console';
  /** A test of what only the built console has (pages, the sign-in form, headers): defined for it alone, not skipped here. */
  const itBuilt = built ? it : ((() => undefined) as unknown as typeof it);
  let db: Kysely<Database>;
  let closeDb: () => Promise<void>;
  let server: { url: string; child: ChildProcess | null; output: string[] };
  const credentials = {} as Record<Exclude<Caller, 'nobody'>, Record<string, string>>;
  let targetId: number;
  let origin: string;
  /** A local target (an exporter-like server that checks its token) and a webhook that records what it is sent. */
  let localId: number;
  let exporter: { url: string; close(): Promise<void> };
  let hook: { url: string; close(): Promise<void> };
  let hookFails = false;
  const authorizations: (string | undefined)[] = [];
  const hooked: unknown[] = [];
  const LOCAL_TOKEN = 'local-target-token-0123456789';

  beforeAll(async () => {
    const d = await database();
    closeDb = d.close;
    db = await createDb(d.url, { max: 2 });
    await migrateToLatest(db);
    const users = {} as Record<Role, number>;
    for (const role of ROLES) users[role] = (await createUser(db, { name: role, role, password: `${role}-password-1` })).id;
    for (const role of ROLES) credentials[role] = { cookie: `vigil_session=${(await createSession(db, users[role])).token}` };
    const expired = await createSession(db, users.admin, {}, { maxAgeSeconds: 1, idleSeconds: 3600 });
    await db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id_hash', '=', expired.session.id_hash)
      .execute();
    credentials.expired = { cookie: `vigil_session=${expired.token}` };
    const revoked = await createApiKey(db, users.admin, 'old');
    await revokeApiKey(db, revoked.info.id);
    credentials['revoked-key'] = { authorization: `Bearer ${revoked.key}` };
    credentials['viewer-key'] = { 'x-api-key': (await createApiKey(db, users.viewer, 'grafana')).key };
    credentials['admin-key'] = { authorization: `Bearer ${(await createApiKey(db, users.admin, 'ci')).key}` };
    targetId = (await addTarget(db, { name: 'pi-1', url: 'http://pi-1.lan:9110/metrics' })).id;
    exporter = await httpServer((req, res) => {
      authorizations.push(req.headers.authorization);
      res.end(
        [
          'node_memory_MemTotal_bytes 1000',
          'node_memory_MemAvailable_bytes 250',
          'vigil_container_state{name="web",image="nginx",state="running"} 1',
          'probe_success{service="site"} 1',
          '',
        ].join('\n'),
      );
    });
    hook = await httpServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        hooked.push(JSON.parse(b));
        res.statusCode = hookFails ? 500 : 200;
        res.end(hookFails ? 'hook broke' : 'ok');
      });
    });
    localId = (await addTarget(db, { name: 'local', url: exporter.url })).id;
    if (built) server = await startConsole({ DATABASE_URL: d.url });
    else {
      const port = await freePort();
      vi.stubEnv('DATABASE_URL', d.url);
      vi.stubEnv('VIGIL_CONSOLE_LISTEN', `127.0.0.1:${port}`);
      vi.stubEnv('VIGIL_LOG_LEVEL', 'silent');
      server = { url: `http://127.0.0.1:${port}`, child: null, output: [] };
    }
    // The console's default origin: what a browser on this machine uses.
    origin = server.url.replace('127.0.0.1', 'localhost');
  }, 120_000);

  afterAll(async () => {
    await exporter?.close();
    await hook?.close();
    vi.unstubAllEnvs();
    server?.child?.kill();
    await db?.destroy();
    await closeDb?.();
  });

  /** A request as a browser on the console's own page sends it (Origin set on writes), or as a script with a key. */
  const call = async (caller: Caller, method: string, route: string, body?: unknown, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = {
      ...(caller === 'nobody' ? {} : credentials[caller]),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method !== 'GET' && !caller.endsWith('-key') ? { origin } : {}),
      ...extra,
    };
    return send(route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  /** One request, over HTTP to the built console or to the endpoints in this process. */
  const send = (route: string, init: { method: string; headers: Record<string, string>; body?: string }) =>
    built ? fetch(`${server.url}${route}`, { ...init, redirect: 'manual' }) : inProcess(`${server.url}${route}`, init);

  // Written from the roles' definitions, not from the console's policy table:
  // the least role each request needs.
  const fresh = () => `t-${Math.random().toString(36).slice(2, 10)}`;
  /** A host waiting for approval, as an enrolment with such a token leaves it. */
  const pendingTarget = async () => {
    const t = await addTarget(db, { name: fresh(), url: 'http://p.lan:9110/metrics' });
    await db.updateTable('targets').set({ pending_approval: true, paused: true }).where('id', '=', t.id).execute();
    return t.id;
  };
  const routes: { method: string; label: string; path: () => Promise<string> | string; least: Role; body?: () => unknown }[] = [
    { method: 'GET', label: '/api/v1/me', path: () => '/api/v1/me', least: 'viewer' },
    { method: 'GET', label: '/api/v1/targets', path: () => '/api/v1/targets', least: 'viewer' },
    { method: 'GET', label: '/api/v1/targets/:id', path: () => `/api/v1/targets/${targetId}`, least: 'viewer' },
    { method: 'GET', label: '/api/v1/targets/:id/heartbeats', path: () => `/api/v1/targets/${targetId}/heartbeats`, least: 'viewer' },
    { method: 'GET', label: '/api/v1/targets/:id/interfaces', path: () => `/api/v1/targets/${targetId}/interfaces`, least: 'viewer' },
    { method: 'GET', label: '/api/v1/targets/:id/containers', path: () => `/api/v1/targets/${targetId}/containers`, least: 'viewer' },
    { method: 'GET', label: '/api/v1/targets/:id/events', path: () => `/api/v1/targets/${targetId}/events`, least: 'viewer' },
    { method: 'GET', label: '/api/v1/targets/:id/inventory', path: () => `/api/v1/targets/${targetId}/inventory`, least: 'viewer' },
    { method: 'GET', label: '/api/v1/events', path: () => '/api/v1/events', least: 'viewer' },
    { method: 'GET', label: '/api/v1/fleet', path: () => '/api/v1/fleet', least: 'viewer' },
    { method: 'GET', label: '/api/v1/fleet/stream', path: () => '/api/v1/fleet/stream', least: 'viewer' },
    { method: 'GET', label: '/api/v1/api-keys', path: () => '/api/v1/api-keys', least: 'viewer' },
    { method: 'POST', label: '/api/v1/api-keys', path: () => '/api/v1/api-keys', least: 'viewer', body: () => ({ name: 'k' }) },
    {
      method: 'POST',
      label: '/api/v1/targets',
      path: () => '/api/v1/targets',
      least: 'operator',
      body: () => ({ name: fresh(), url: 'http://x.lan:9110/metrics' }),
    },
    {
      method: 'PATCH',
      label: '/api/v1/targets/:id',
      path: () => `/api/v1/targets/${targetId}`,
      least: 'operator',
      body: () => ({ labels: { rack: 'a' } }),
    },
    {
      method: 'DELETE',
      label: '/api/v1/targets/:id',
      path: async () => `/api/v1/targets/${(await addTarget(db, { name: fresh(), url: 'http://y.lan:9110/metrics' })).id}`,
      least: 'operator',
    },
    { method: 'POST', label: '/api/v1/targets/:id/scrape', path: () => `/api/v1/targets/${localId}/scrape`, least: 'operator' },
    {
      method: 'POST',
      label: '/api/v1/targets/scrape',
      path: () => '/api/v1/targets/scrape',
      least: 'operator',
      body: () => ({ url: exporter.url }),
    },
    { method: 'GET', label: '/api/v1/channels', path: () => '/api/v1/channels', least: 'viewer' },
    {
      method: 'POST',
      label: '/api/v1/channels',
      path: () => '/api/v1/channels',
      least: 'admin',
      body: () => ({ name: fresh(), kind: 'webhook', url: hook.url }),
    },
    {
      method: 'GET',
      label: '/api/v1/channels/:id',
      path: async () => `/api/v1/channels/${(await addChannel(db, { name: fresh(), kind: 'slack', url: hook.url })).id}`,
      least: 'viewer',
    },
    {
      method: 'DELETE',
      label: '/api/v1/channels/:id',
      path: async () => `/api/v1/channels/${(await addChannel(db, { name: fresh(), kind: 'slack', url: hook.url })).id}`,
      least: 'admin',
    },
    {
      method: 'POST',
      label: '/api/v1/channels/:id/test',
      path: async () => `/api/v1/channels/${(await addChannel(db, { name: fresh(), kind: 'webhook', url: hook.url })).id}/test`,
      least: 'operator',
    },
    { method: 'GET', label: '/api/v1/users', path: () => '/api/v1/users', least: 'admin' },
    {
      method: 'POST',
      label: '/api/v1/users',
      path: () => '/api/v1/users',
      least: 'admin',
      body: () => ({ name: fresh(), role: 'viewer', password: 'a-long-password' }),
    },
    { method: 'PATCH', label: '/api/v1/users/:name', path: () => '/api/v1/users/viewer', least: 'admin', body: () => ({ role: 'viewer' }) },
    {
      method: 'DELETE',
      label: '/api/v1/users/:name',
      path: async () => `/api/v1/users/${(await createUser(db, { name: fresh(), role: 'viewer', password: 'a-long-password' })).name}`,
      least: 'admin',
    },
    { method: 'GET', label: '/api/v1/audit', path: () => '/api/v1/audit', least: 'admin' },
    { method: 'GET', label: '/api/v1/enrolment-tokens', path: () => '/api/v1/enrolment-tokens', least: 'admin' },
    {
      method: 'POST',
      label: '/api/v1/enrolment-tokens',
      path: () => '/api/v1/enrolment-tokens',
      least: 'admin',
      body: () => ({ name: fresh(), max_uses: 2 }),
    },
    {
      method: 'DELETE',
      label: '/api/v1/enrolment-tokens/:id',
      path: async () => `/api/v1/enrolment-tokens/${(await createEnrolmentToken(db, { name: fresh(), createdBy: 'test' })).info.id}`,
      least: 'admin',
    },
    {
      method: 'POST',
      label: '/api/v1/targets/:id/approve',
      path: async () => `/api/v1/targets/${await pendingTarget()}/approve`,
      least: 'admin',
    },
    {
      method: 'POST',
      label: '/api/v1/targets/:id/reject',
      path: async () => `/api/v1/targets/${await pendingTarget()}/reject`,
      least: 'admin',
    },
    { method: 'GET', label: '/admin/enrolment', path: () => '/admin/enrolment', least: 'admin' },
    { method: 'GET', label: '/api/v1/terminal-sessions', path: () => '/api/v1/terminal-sessions', least: 'viewer' },
    { method: 'GET', label: '/ (fleet page)', path: () => '/', least: 'viewer' },
    { method: 'GET', label: '/events', path: () => '/events', least: 'viewer' },
    { method: 'GET', label: '/hosts/:id', path: () => `/hosts/${targetId}`, least: 'viewer' },
    { method: 'GET', label: '/hosts/:id/terminal', path: () => `/hosts/${targetId}/terminal`, least: 'developer' },
    { method: 'GET', label: '/hosts/:id/logs', path: () => `/hosts/${targetId}/logs?container=web`, least: 'developer' },
    { method: 'GET', label: '/account', path: () => '/account', least: 'viewer' },
    { method: 'GET', label: '/admin/targets', path: () => '/admin/targets', least: 'operator' },
    { method: 'GET', label: '/admin/channels', path: () => '/admin/channels', least: 'operator' },
    { method: 'GET', label: '/admin/users', path: () => '/admin/users', least: 'admin' },
    { method: 'GET', label: '/admin/keys', path: () => '/admin/keys', least: 'admin' },
    { method: 'GET', label: '/admin/audit', path: () => '/admin/audit', least: 'admin' },
    { method: 'GET', label: '/admin/terminals', path: () => '/admin/terminals', least: 'admin' },
  ];
  const callers: [Caller, Role | null][] = [
    ['nobody', null],
    ['expired', null],
    ['revoked-key', null],
    ['viewer', 'viewer'],
    ['viewer-key', 'viewer'],
    ['developer', 'developer'],
    ['operator', 'operator'],
    ['admin', 'admin'],
    ['admin-key', 'admin'],
  ];
  const rank = (r: Role) => ROLES.indexOf(r);

  it.for(
    routes
      .filter((r) => built || r.label.startsWith('/api/'))
      .flatMap(({ method, label, path, least, body }) =>
        callers.map(([caller, role]) => [`${method} ${label}`, least, caller, { method, route: path, body, role }] as const),
      ),
  )('%s (needs %s) as %s', async ([, least, caller, { method, route, body, role }]) => {
    const path = await route();
    const res = await call(caller, method, path, body?.());
    const page = !path.startsWith('/api/');
    if (role === null) {
      // Signed out: a page sends you to sign in; the API says 401.
      if (page) {
        expect(res.status).toBe(303);
        expect(res.headers.get('location')).toMatch(/^\/login/);
      } else {
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ error: { code: 'unauthenticated' } });
      }
    } else if (rank(role) < rank(least)) {
      expect(res.status).toBe(403);
      if (!page) expect(await res.json()).toMatchObject({ error: { code: 'forbidden', message: expect.stringContaining(least) } });
    } else if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      // A stream: its first event is the fleet; then it is let go.
      expect(res.status).toBe(200);
      expect(await firstEvent(res)).toMatchObject({
        type: 'snapshot',
        rows: expect.arrayContaining([expect.objectContaining({ name: 'pi-1' })]),
      });
    } else {
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    }
  });

  it.for(
    routes
      .filter(({ method }) => method !== 'GET')
      .map(({ method, label, path, body }) => [`${method} ${label}`, { method, route: path, body }] as const),
  )('%s from a foreign Origin is refused, even for an admin', async ([, { method, route, body }]) => {
    const res = await call('admin', method, await route(), body?.(), { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden_origin' } });
    // Without an Origin at all, a cookie is not enough either (every browser sends one on writes).
    const bare = await send(await route(), {
      method,
      headers: { ...credentials.admin, 'content-type': 'application/json' },
      body: JSON.stringify(body?.() ?? {}),
    });
    expect(bare.status).toBe(403);
  });

  it('answers health without sign-in, and nothing more', async () => {
    const h = await call('nobody', 'GET', '/api/v1/health');
    expect(await h.json()).toEqual({ status: 'ok' });
    const d = await call('nobody', 'GET', '/api/v1/health/db');
    expect(d.status).toBe(200);
    expect(await d.json()).toEqual({ status: 'ok' });
  });

  itBuilt('answers health at the root too, where load balancers and compose healthchecks look', async () => {
    for (const p of ['/health', '/health/db']) {
      const r = await fetch(`${server.url}${p}`, { redirect: 'manual' });
      expect(r.status, p).toBe(200);
      expect(await r.json()).toEqual({ status: 'ok' });
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
  });

  itBuilt('signs in with the form, with a new session each time, and out again', async () => {
    const form = (name: string, password: string) =>
      fetch(`${server.url}/login`, {
        method: 'POST',
        headers: { origin, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name, password, next: '/events' }),
        redirect: 'manual',
      });
    const ok = await form('operator', 'operator-password-1');
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/events');
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^vigil_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/); // http://localhost: a Secure cookie would never come back
    const session = cookie.split(';')[0]!;
    const again = (await form('operator', 'operator-password-1')).headers.get('set-cookie')!.split(';')[0];
    expect(again).not.toBe(session);
    const me = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: session } });
    expect(await me.json()).toEqual({ name: 'operator', role: 'operator', via: 'session', two_factor: false });
    const out = await fetch(`${server.url}/logout`, {
      method: 'POST',
      headers: { origin, cookie: session },
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    const after = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: session } });
    expect(after.status).toBe(401);

    const wrong = await form('operator', 'not-the-password');
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('Wrong name or password');
    expect(server.output.join('\n')).toMatch(/sign-in failed/);
    expect(server.output.join('\n')).not.toContain('not-the-password');
  });

  itBuilt('throttles guessing at one account', async () => {
    const guess = () =>
      fetch(`${server.url}/login`, {
        method: 'POST',
        headers: { origin, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'developer', password: 'guess-guess-guess' }),
        redirect: 'manual',
      });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await guess()).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    // Even the right password is not checked now.
    const right = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { origin, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'developer', password: 'developer-password-1' }),
      redirect: 'manual',
    });
    expect(right.status).toBe(429);
  });

  itBuilt('sends security headers, and a CSP without inline script on pages', async () => {
    const res = await call('viewer', 'GET', '/');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'self' 'nonce-[^']+'/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    const apiRes = await call('viewer', 'GET', '/api/v1/me');
    expect(apiRes.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  });

  it('validates bodies, answering {error: {code, message, field}} and never a stack', async () => {
    const bad = await call('admin', 'POST', '/api/v1/targets', { name: 'x y', url: 'ftp://x' });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid', field: 'name' } });
    const timeout = await call('admin', 'PATCH', `/api/v1/targets/${targetId}`, { timeout_seconds: 100 });
    expect(await timeout.json()).toMatchObject({ error: { code: 'invalid', field: 'timeout_seconds' } });
    const notJson = await send('/api/v1/targets', {
      method: 'POST',
      headers: { origin, ...credentials.admin, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(notJson.status).toBe(400);
    // Over 1 MiB: refused with 413 before it is read whole, not read and then called "not JSON".
    const huge = await send('/api/v1/targets', {
      method: 'POST',
      headers: { origin, ...credentials.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'big', url: 'http://big.lan:9110', labels: { rack: 'x'.repeat(10 * 1024 * 1024) } }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: 'too_large' } });
    const reserved = await call('admin', 'POST', '/api/v1/targets', {
      name: 'pi-r',
      url: 'http://pi-r.lan:9110',
      labels: { instance: 'x' },
    });
    expect(await reserved.json()).toMatchObject({
      error: { code: 'invalid', field: 'labels', message: expect.stringMatching(/sets itself/) },
    });
    const dup = await call('admin', 'POST', '/api/v1/targets', { name: 'pi-1', url: 'http://pi-1.lan:9110' });
    expect(dup.status).toBe(409);
    const missing = await call('admin', 'GET', '/api/v1/targets/424242');
    expect(missing.status).toBe(404);
    const last = await call('admin', 'PATCH', '/api/v1/users/admin', { role: 'viewer' });
    expect(last.status).toBe(409);
    for (const r of [notJson, dup, missing, last]) expect(await r.text()).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('checks query parameters: filters, pages and time ranges', async () => {
    const get = async (route: string) => (await call('viewer', 'GET', route)).status;
    expect(await get('/api/v1/targets?state=bogus')).toBe(400);
    expect(await get('/api/v1/targets?label=nokey')).toBe(400);
    expect(await get('/api/v1/targets?page=0')).toBe(400);
    expect(await get('/api/v1/targets?per_page=501')).toBe(400);
    const filtered = await (await call('viewer', 'GET', '/api/v1/targets?q=PI&state=unknown&label=rack=a&per_page=5')).json();
    expect(filtered).toMatchObject({ page: 1, per_page: 5 });
    const hb = (q: string) => get(`/api/v1/targets/${targetId}/heartbeats${q}`);
    expect(await hb('?from=yesterday')).toBe(400);
    expect(await hb('?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).toBe(400);
    expect(await hb('?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z')).toBe(400);
    expect(await hb(`?from=${Math.floor(Date.now() / 1000) - 60}`)).toBe(200);
    // Buckets: under an hour from heartbeats (31 days at most), whole hours from rollups (400 days).
    expect(await hb('?step=0')).toBe(400);
    expect(await hb('?step=1.5')).toBe(400);
    expect(await hb('?step=-60')).toBe(400);
    expect(await hb('?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=300')).toBe(400);
    expect(await hb('?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=3600')).toBe(200);
    expect(await hb('?from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=3600')).toBe(400);
    expect(await hb('?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&step=1')).toBe(400); // 86,400 buckets
    const series = await (await call('viewer', 'GET', `/api/v1/targets/${targetId}/heartbeats?step=60`)).json();
    expect(series.series).toMatchObject({ resolution: 'raw', stepSeconds: 60, time: [], cpu: { min: [], avg: [], max: [] } });
    expect(await get('/api/v1/targets/424242/inventory')).toBe(404);
    // Per-interface and per-container figures take the same range; without a step, one with at most 500 buckets.
    const named = await (
      await call('viewer', 'GET', `/api/v1/targets/${targetId}/interfaces?from=${Math.floor(Date.now() / 1000) - 86_400}`)
    ).json();
    expect(named.series).toEqual({ resolution: 'raw', stepSeconds: 300, time: [], series: {} });
    expect(await get(`/api/v1/targets/${targetId}/containers?step=0`)).toBe(400);
    expect(await get(`/api/v1/targets/${targetId}/containers?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z`)).toBe(400);
    expect(await get('/api/v1/targets/424242/containers')).toBe(404);
    const fleet = await (await call('viewer', 'GET', '/api/v1/fleet')).json();
    expect(fleet).toMatchObject({
      type: 'snapshot',
      rows: expect.arrayContaining([expect.objectContaining({ id: targetId, name: 'pi-1' })]),
    });
    const inventory = await (await call('viewer', 'GET', `/api/v1/targets/${targetId}/inventory`)).json();
    expect(inventory).toEqual({ scraped_at: null, changed_at: null, containers: [], services: [] });
    expect(await get('/api/v1/targets/424242/heartbeats')).toBe(404);
    expect(await get('/api/v1/targets/424242/events')).toBe(404);
    expect(await get('/api/v1/events?target=abc')).toBe(404);
    expect(await get(`/api/v1/events?target=${targetId}&type=paused`)).toBe(200);
  });

  it('lets an admin set a password, which signs that user out', async () => {
    const res = await call('admin', 'PATCH', '/api/v1/users/developer', { password: 'developer-password-2' });
    const developer = await res.json();
    expect(developer).toMatchObject({ name: 'developer', role: 'developer' });
    expect((await call('developer', 'GET', '/api/v1/me')).status).toBe(401);
    credentials.developer = { cookie: `vigil_session=${(await createSession(db, developer.id)).token}` };
    expect((await call('admin', 'PATCH', '/api/v1/users/nobody', { role: 'viewer' })).status).toBe(404);
    expect((await call('admin', 'PATCH', '/api/v1/users/developer', { role: 'root' })).status).toBe(422);
  });

  it('test-scrapes a target with its own token, keeps the token secret, and writes nothing', async () => {
    const set = await call('operator', 'PATCH', `/api/v1/targets/${localId}`, { token: LOCAL_TOKEN });
    const view = await set.json();
    expect(view).toMatchObject({ id: localId, has_token: true });
    expect(JSON.stringify(view)).not.toContain(LOCAL_TOKEN);
    expect((await call('operator', 'PATCH', `/api/v1/targets/${localId}`, { token: 'short' })).status).toBe(422);
    authorizations.length = 0;
    const r = await (await call('operator', 'POST', `/api/v1/targets/${localId}/scrape`)).json();
    expect(authorizations).toEqual([`Bearer ${LOCAL_TOKEN}`]);
    expect(r).toMatchObject({
      up: true,
      error: null,
      figures: { memory_total_bytes: 1000, memory_used_bytes: 750, cpu_usage_percent: null, samples: 4 },
      inventory: { containers: [{ name: 'web', state: 'running' }], services: [{ name: 'site', success: true }] },
    });
    // Nothing recorded.
    const hb = await db.selectFrom('heartbeats').select('time').where('target_id', '=', localId).execute();
    expect(hb).toEqual([]);
    // A URL not added yet, and one that refuses.
    const refused = await (
      await call('operator', 'POST', '/api/v1/targets/scrape', { url: `http://127.0.0.1:${await freePort()}` })
    ).json();
    expect(refused).toMatchObject({ up: false, error: expect.stringMatching(/connection refused/), figures: null });
    const audit = await (await call('admin', 'GET', '/api/v1/audit?per_page=500')).json();
    expect(JSON.stringify(audit)).not.toContain(LOCAL_TOKEN);
    await call('operator', 'PATCH', `/api/v1/targets/${localId}`, { token: null });
    expect((await (await call('viewer', 'GET', `/api/v1/targets/${localId}`)).json()).has_token).toBe(false);
  });

  it("sets and clears a target's PTY socket, refusing what is not a ws:// URL without credentials", async () => {
    const set = await call('operator', 'PATCH', `/api/v1/targets/${localId}`, { pty_url: 'ws://10.0.0.5:9120/pty' });
    expect(await set.json()).toMatchObject({ id: localId, pty_url: 'ws://10.0.0.5:9120/pty' });
    for (const bad of ['http://10.0.0.5:9120/pty', 'ws://u:p@10.0.0.5/pty', 'not a url']) {
      const r = await call('operator', 'PATCH', `/api/v1/targets/${localId}`, { pty_url: bad });
      expect(r.status).toBe(422);
      expect((await r.json()).error.field).toBe('pty_url');
    }
    expect((await call('developer', 'PATCH', `/api/v1/targets/${localId}`, { pty_url: null })).status).toBe(403);
    const cleared = await call('operator', 'PATCH', `/api/v1/targets/${localId}`, { pty_url: null });
    expect((await cleared.json()).pty_url).toBeNull();
  });

  it('adds, shows (URL masked), tests and removes channels; a failing one says why without its secret', async () => {
    const secretUrl = `${new URL(hook.url).origin}/services/T0/B0/SECRET`;
    const bad = await call('admin', 'POST', '/api/v1/channels', { name: 'x', kind: 'webhook', url: 'ftp://SECRET/x' });
    expect(bad.status).toBe(422);
    expect(await bad.text()).not.toContain('SECRET');
    const created = await call('admin', 'POST', '/api/v1/channels', { name: 'ops-hook', kind: 'webhook', url: secretUrl });
    expect(created.status).toBe(201);
    const c = await created.json();
    expect(c.url).toBe(`${new URL(hook.url).origin}/***`);
    expect((await call('admin', 'POST', '/api/v1/channels', { name: 'ops-hook', kind: 'slack', url: secretUrl })).status).toBe(409);
    const listed = await (await call('viewer', 'GET', '/api/v1/channels')).json();
    expect(listed.items.map((x: { name: string }) => x.name)).toContain('ops-hook');
    expect(JSON.stringify(listed)).not.toContain('SECRET');
    hooked.length = 0;
    const ok = await call('operator', 'POST', `/api/v1/channels/${c.id}/test`);
    expect(await ok.json()).toEqual({ sent: true });
    expect(hooked).toEqual([
      expect.objectContaining({ version: 1, event: expect.objectContaining({ message: expect.stringContaining('sent by operator') }) }),
    ]);
    hookFails = true;
    const failed = await call('operator', 'POST', `/api/v1/channels/${c.id}/test`);
    hookFails = false;
    expect(failed.status).toBe(502);
    const why = await failed.json();
    expect(why.error.message).toMatch(/HTTP 500: hook broke/);
    expect(why.error.message).not.toContain('SECRET');
    expect((await call('admin', 'DELETE', `/api/v1/channels/${c.id}`)).status).toBe(204);
    expect((await call('admin', 'GET', `/api/v1/channels/${c.id}`)).status).toBe(404);
    expect((await call('admin', 'DELETE', `/api/v1/channels/${c.id}`)).status).toBe(404);
    expect((await call('operator', 'POST', `/api/v1/channels/${c.id}/test`)).status).toBe(404);
  });

  it('pauses and resumes a target through the API, audited with before and after', async () => {
    const paused = await call('operator', 'PATCH', `/api/v1/targets/${targetId}`, { paused: true });
    expect(await paused.json()).toMatchObject({ id: targetId, paused: true });
    // Hosts waiting for approval are paused too (made above): left out with pending=0.
    const listed = await (await call('viewer', 'GET', '/api/v1/targets?state=paused&pending=0')).json();
    expect(listed).toMatchObject({ total: 1, items: [{ name: 'pi-1', paused: true }] });
    await call('operator', 'PATCH', `/api/v1/targets/${targetId}`, { paused: false });
    const events = await (await call('viewer', 'GET', `/api/v1/targets/${targetId}/events`)).json();
    expect(events.items.map((e: { type: string }) => e.type).slice(0, 2)).toEqual(['resumed', 'paused']);
    const audit = await (await call('admin', 'GET', '/api/v1/audit?per_page=50')).json();
    const pause = audit.items.find((a: { action: string }) => a.action === 'target.pause');
    expect(pause).toMatchObject({
      user_name: 'operator',
      object_type: 'target',
      object_id: String(targetId),
      before: { paused: false },
      after: { paused: true },
    });
    expect(pause.client_address).toBe('127.0.0.1');
  });

  it('shows an API key once; listings never hold it', async () => {
    const made = await (await call('viewer', 'POST', '/api/v1/api-keys', { name: 'laptop' })).json();
    expect(made.key).toMatch(/^vgl_/);
    const listed = await (await call('viewer', 'GET', '/api/v1/api-keys')).text();
    expect(listed).toContain(made.prefix);
    expect(listed).not.toContain(made.key);
    expect((await call('viewer', 'GET', '/api/v1/api-keys?all=1')).status).toBe(403);
    const theirs = await call('operator', 'DELETE', `/api/v1/api-keys/${made.id}`);
    expect(theirs.status).toBe(404);
    const mine = await call('viewer', 'DELETE', `/api/v1/api-keys/${made.id}`);
    expect(await mine.json()).toMatchObject({ revoked_at: expect.any(String) });
    const useRevoked = await send('/api/v1/me', { method: 'GET', headers: { 'x-api-key': made.key } });
    expect(useRevoked.status).toBe(401);
  });
});

/** The first `event:`/`data:` block of a Server-Sent Events response, parsed; the stream is cancelled after it. */
async function firstEvent(res: Response): Promise<unknown> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before an event: ${text}`);
      text += decoder.decode(value, { stream: true });
      const block = text
        .split('\n\n')
        .slice(0, -1) // the last part may be cut short
        .find((b) => b.startsWith('event: '));
      if (block) return JSON.parse(block.slice(block.indexOf('data: ') + 6));
    }
  } finally {
    await reader.cancel();
  }
}
