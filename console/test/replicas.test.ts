import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureBuilt, freePort, packageBin, REPO, requireCommand, until } from '@vigil/core/testing';
import { addTarget, createDb, createUser, type Database, joinScrapers, migrateToLatest } from '@vigil/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '$lib/api';
import { sharedTestDatabase } from './database.js';
import { started } from './relay.js';

// Two console processes on one database, as behind a load balancer: a session
// made on one works on the other, sign-in failures are counted across both,
// a sign-out on one ends the session on the other, and the fleet stream of
// each sees a change made through the other.
describe('two console replicas on one database', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-consoles-'));
  const cleanups: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  let db: Kysely<Database>;
  const consoles: string[] = [];
  const pids: number[] = [];
  let origin = '';

  beforeAll(async () => {
    ensureBuilt('console', 'dist/server.mjs', ['console/src', 'core/src', 'db/src', 'migrations/src']);
    // Several processes, one database: TEST_DATABASE_URL's server, else PGlite served on loopback.
    const database = await sharedTestDatabase(dir, 'vigil_consoles');
    const dbUrl = database.url;
    cleanups.push(() => database.drop());
    db = await createDb(dbUrl, { max: 2 });
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);
    await createUser(db, { name: 'ada', role: 'operator', password: 'ada-long-password-1' });
    await addTarget(db, { name: 'first', url: 'http://127.0.0.1:9/metrics' });
    await joinScrapers(db, { id: 'watching', hostname: 'h', pid: 1, version: '0' });
    const ports = [await freePort(), await freePort()];
    // One origin for both, as behind the proxy browsers reach.
    origin = `http://localhost:${ports[0]}`;
    for (const port of ports) {
      const child = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: dbUrl,
          VIGIL_CONSOLE_LISTEN: `127.0.0.1:${port}`,
          VIGIL_CONSOLE_ORIGIN: origin,
          VIGIL_SCRAPER_MEMBER_TIMEOUT: '3600',
          VIGIL_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanups.push(() => child.kill('SIGKILL'));
      await started(child, /^console listening/, 'vigil-console');
      pids.push(child.pid!);
      consoles.push(`http://127.0.0.1:${port}`);
    }
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  const signIn = (base: string, name: string, password: string) =>
    fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name, password }),
    });
  const me = (base: string, cookie: string) => fetch(`${base}/api/v1/me`, { headers: { cookie } });

  it('takes a session made on one replica on the other, and a sign-out on either ends it on both', async () => {
    const [a, b] = consoles as [string, string];
    const r = await signIn(a, 'ada', 'ada-long-password-1');
    expect(r.status).toBe(303);
    const cookie = r.headers.get('set-cookie')!.split(';')[0]!;
    expect((await (await me(b, cookie)).json()).name).toBe('ada');
    expect((await me(a, cookie)).status).toBe(200);
    await fetch(`${b}/logout`, { method: 'POST', redirect: 'manual', headers: { origin, cookie } });
    expect((await me(a, cookie)).status).toBe(401);
  });

  it('counts failed sign-ins across replicas: five wrong passwords, spread over both, lock the account on both', async () => {
    const [a, b] = consoles as [string, string];
    for (let i = 0; i < 5; i++) expect((await signIn(i % 2 ? b : a, 'ada', 'wrong-password')).status).toBe(400);
    expect((await signIn(a, 'ada', 'ada-long-password-1')).status).toBe(429);
    expect((await signIn(b, 'ada', 'ada-long-password-1')).status).toBe(429);
    await db.deleteFrom('login_failures').execute();
  });

  it('streams the fleet on both: a target added through one appears on the other, and so does the last scraper leaving', async () => {
    const [a, b] = consoles as [string, string];
    const cookie = (await signIn(a, 'ada', 'ada-long-password-1')).headers.get('set-cookie')!.split(';')[0]!;
    const streams = await Promise.all(consoles.map((base) => openStream(`${base}/api/v1/fleet/stream`, cookie)));
    cleanups.push(() => Promise.all(streams.map((s) => s.close())));
    for (const s of streams) {
      const snapshot = await s.next((e) => e.type === 'snapshot');
      expect(snapshot.rows.map((r) => r.name)).toEqual(['first']);
      expect(snapshot.scrapers).toBe(1);
    }
    const added = await fetch(`${b}/api/v1/targets`, {
      method: 'POST',
      headers: { origin, cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'second', url: 'http://127.0.0.1:9/metrics' }),
    });
    expect(added.status).toBe(201);
    for (const s of streams) await s.next((e) => e.type === 'update' && e.rows.some((r) => r.name === 'second'));
    await db.deleteFrom('scrapers').execute();
    for (const s of streams) await s.next((e) => e.type === 'update' && e.scrapers === 0);
    // Signed out through one replica: the other's stream ends at its next check of the credential.
    await fetch(`${a}/logout`, { method: 'POST', redirect: 'manual', headers: { origin, cookie } });
    await until('the other replica’s stream to end', 20, async () => streams[1]!.ended());
  });

  it('behind nginx with deploy/compose/nginx.conf: signs in, streams, keeps a session on one console, and fails over to the other', async (ctx) => {
    requireCommand('nginx', 'nginx', (note) => ctx.skip(note), ['-v']);
    // The shipped file, its two upstreams pointed at the two consoles and its port at a free one.
    const proxyPort = await freePort();
    const shipped = readFileSync(path.join(REPO, 'deploy/compose/nginx.conf'), 'utf8');
    const conf = shipped
      .replace('server console:3000', `server ${new URL(consoles[0]!).host}`)
      .replace('server console-2:3000', `server ${new URL(consoles[1]!).host}`)
      .replace('listen 8080;', `listen 127.0.0.1:${proxyPort};`);
    expect(conf).not.toMatch(/console(-2)?:3000|listen 8080/);
    const nginxDir = mkdtempSync(path.join(tmpdir(), 'vigil-nginx-'));
    chmodSync(nginxDir, 0o755);
    cleanups.push(() => rmSync(nginxDir, { recursive: true, force: true }));
    writeFileSync(path.join(nginxDir, 'vigil.conf'), conf);
    writeFileSync(
      path.join(nginxDir, 'nginx.conf'),
      `pid ${nginxDir}/nginx.pid;\nerror_log ${nginxDir}/error.log;\nevents {}\nhttp {\n` +
        `  log_format upstream '$upstream_addr $cookie_vigil_session';\n  access_log ${nginxDir}/access.log upstream;\n` +
        `  client_body_temp_path ${nginxDir}/body; proxy_temp_path ${nginxDir}/proxy;\n  include ${nginxDir}/vigil.conf;\n}\n`,
    );
    const nginx = spawn('nginx', ['-p', nginxDir, '-c', path.join(nginxDir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
    cleanups.push(() => nginx.kill('SIGKILL'));
    const proxy = `http://127.0.0.1:${proxyPort}`;
    await until('nginx to answer', 10, async () => (await fetch(`${proxy}/api/v1/health`)).ok);

    await db
      .insertInto('users')
      .values({
        name: 'bea',
        role: 'viewer',
        password_hash: (await db.selectFrom('users').select('password_hash').where('name', '=', 'ada').executeTakeFirstOrThrow())
          .password_hash,
      })
      .execute();
    const r = await signIn(proxy, 'bea', 'ada-long-password-1');
    expect(r.status).toBe(303);
    const cookie = r.headers.get('set-cookie')!.split(';')[0]!;
    // Server-Sent Events pass through unbuffered: the snapshot arrives at once.
    const stream = await openStream(`${proxy}/api/v1/fleet/stream`, cookie);
    cleanups.push(() => stream.close());
    expect((await stream.next((e) => e.type === 'snapshot')).rows.length).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect((await me(proxy, cookie)).status).toBe(200);
    // Sticky: every request of this session went to one console.
    const session = cookie.split('=')[1]!;
    // nginx logs a request after answering it: wait for the five lines rather than read the log at once.
    const upstreams = await until('nginx to log the five requests', 10, async () => {
      const lines = readFileSync(path.join(nginxDir, 'access.log'), 'utf8')
        .split('\n')
        .filter((l) => l.endsWith(` ${session}`))
        .map((l) => l.split(' ')[0]);
      return lines.length >= 5 && lines;
    });
    expect(upstreams.length).toBeGreaterThanOrEqual(5);
    expect(new Set(upstreams).size).toBe(1);
    // That console dies: the next request goes to the other, where the session is as good.
    const sticky = consoles.findIndex((c) => new URL(c).host === upstreams[0]);
    expect(sticky).toBeGreaterThanOrEqual(0);
    process.kill(pids[sticky]!, 'SIGKILL');
    expect((await (await me(proxy, cookie)).json()).name).toBe('bea');
  });
});

/** A Server-Sent Events stream read as it comes: `next(match)` resolves with the first event (from the start) that matches. */
async function openStream(url: string, cookie: string) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { cookie, accept: 'text/event-stream' }, signal: controller.signal });
  expect(res.status).toBe(200);
  const events: FleetEvent[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let ended = false;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) {
        ended = true;
        return;
      }
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        buffer = buffer.slice(end + 2);
        if (data) events.push(JSON.parse(data));
      }
    }
  })();
  return {
    next: (match: (e: FleetEvent) => boolean) => until('a fleet event', 15, async () => events.find(match)),
    ended: () => ended,
    close: () => {
      controller.abort();
      return pump;
    },
  };
}
