import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closedPort, freePort } from '@vigil/core/testing';
import {
  addChannel,
  addTarget,
  createDb,
  createSession,
  createUser,
  type Database,
  migrateToLatest,
  startEmbeddedPostgres,
} from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inProcess } from './kit.js';

// Every API route, called with generated bodies, query strings and path ids
// (mostly invalid, some valid): each answer is 2xx, 3xx or 4xx with an
// {error: {code, message}} body, never a 5xx or a stack trace. A fixed seed and
// a bounded number of cases, so a failure is found again by running it again.
const SEED = 20261204;
const RUNS = 25;

/** The routes, with the methods each offers (the terminal stream and the fleet's event stream are left out: they never end). */
const ROUTES: { method: string; path: string }[] = [
  { method: 'GET', path: '/api/v1/me' },
  { method: 'GET', path: '/api/v1/health' },
  { method: 'GET', path: '/api/v1/health/db' },
  { method: 'GET', path: '/api/v1/fleet' },
  { method: 'GET', path: '/api/v1/events' },
  { method: 'GET', path: '/api/v1/audit' },
  { method: 'GET', path: '/api/v1/targets' },
  { method: 'POST', path: '/api/v1/targets' },
  { method: 'POST', path: '/api/v1/targets/scrape' },
  { method: 'GET', path: '/api/v1/targets/:id' },
  { method: 'PATCH', path: '/api/v1/targets/:id' },
  { method: 'DELETE', path: '/api/v1/targets/:id' },
  { method: 'GET', path: '/api/v1/targets/:id/heartbeats' },
  { method: 'GET', path: '/api/v1/targets/:id/events' },
  { method: 'GET', path: '/api/v1/targets/:id/interfaces' },
  { method: 'GET', path: '/api/v1/targets/:id/containers' },
  { method: 'GET', path: '/api/v1/targets/:id/inventory' },
  { method: 'POST', path: '/api/v1/targets/:id/scrape' },
  { method: 'GET', path: '/api/v1/channels' },
  { method: 'POST', path: '/api/v1/channels' },
  { method: 'GET', path: '/api/v1/channels/:id' },
  { method: 'DELETE', path: '/api/v1/channels/:id' },
  { method: 'POST', path: '/api/v1/channels/:id/test' },
  { method: 'GET', path: '/api/v1/users' },
  { method: 'POST', path: '/api/v1/users' },
  { method: 'PATCH', path: '/api/v1/users/:id' },
  { method: 'DELETE', path: '/api/v1/users/:id' },
  { method: 'GET', path: '/api/v1/api-keys' },
  { method: 'POST', path: '/api/v1/api-keys' },
  { method: 'DELETE', path: '/api/v1/api-keys/:id' },
];

describe('every API route, with generated input', () => {
  let db: Kysely<Database>;
  let close: () => Promise<void>;
  let cookie = '';
  const ids: string[] = [];
  const origin = () => `http://localhost:${process.env.VIGIL_CONSOLE_LISTEN!.split(':')[1]}`;

  beforeAll(async () => {
    const pg = testDatabases().find((e) => e.name === 'postgres');
    let url: string;
    if (pg) {
      const opened = await pg.open();
      await opened.db.destroy();
      url = opened.url;
      close = opened.drop;
    } else {
      const dir = mkdtempSync(path.join(tmpdir(), 'vigil-fuzz-'));
      const server = await startEmbeddedPostgres(dir);
      url = server.url;
      close = async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      };
    }
    db = await createDb(url, { max: 2 });
    await migrateToLatest(db);
    // The caller, and a second admin so that the last-admin rule is not what every change meets.
    const fuzzer = await createUser(db, { name: 'fuzzer', role: 'admin', password: 'fuzzer-password-1' });
    await createUser(db, { name: 'other-admin', role: 'admin', password: 'other-password-1' });
    cookie = `vigil_session=${(await createSession(db, fuzzer.id)).token}`;
    // Everything a generated request may reach is on loopback, where nothing listens.
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const t = await addTarget(db, { name: 'pi-1', url: `${dead}/metrics` });
    const c = await addChannel(db, { name: 'ops', kind: 'webhook', url: `${dead}/hook` });
    ids.push(String(t.id), String(c.id), 'other-admin');
    vi.stubEnv('DATABASE_URL', url);
    vi.stubEnv('VIGIL_CONSOLE_LISTEN', `127.0.0.1:${await freePort()}`);
    vi.stubEnv('VIGIL_LOG_LEVEL', 'silent');
  }, 120_000);

  afterAll(async () => {
    vi.unstubAllEnvs();
    await db?.destroy();
    await close?.();
  });

  /** Path ids: the real ones, numbers at and past the edges, and any text. */
  const pathId = fc.oneof(
    fc.constantFrom(...['0', '-1', '2147483648', '99999999999', '1e3', '%00', '..', '%2F', 'NaN'], ...ids),
    fc.integer({ min: -5, max: 50 }).map(String),
    fc.string({ maxLength: 40, unit: 'binary' }).map((s) => encodeURIComponent(s) || 'x'),
  );
  /** Query strings: the parameters the routes read, with any values, and others. */
  const query = fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom('page', 'per_page', 'state', 'label', 'q', 'from', 'to', 'step', 'type', 'target', 'all', 'limit'),
          fc.string({ maxLength: 10 }),
        ),
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.integer().map(String),
          fc.constantFrom('', '0', '-1', 'up', 'rack=a', '=', '1e309', 'NaN'),
        ),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => new URLSearchParams(pairs).toString());
  /** Bodies: any JSON, objects with the fields the routes read holding any values, and text that is not JSON. */
  const field = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.string({ maxLength: 50 }),
    fc.string({ maxLength: 50, unit: 'binary' }),
    fc.constantFrom(
      '\u0000',
      'a\u0000b',
      'http://',
      'ftp://x',
      'ws://x/pty',
      'x'.repeat(300),
      '__name__',
      'admin',
      'viewer',
      -1,
      0,
      1e308,
      null,
      true,
    ),
  );
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc
      .dictionary(
        fc.constantFrom(
          'name',
          'url',
          'kind',
          'role',
          'password',
          'labels',
          'interval_seconds',
          'timeout_seconds',
          'token',
          'pty_url',
          'paused',
          'expires_at',
        ),
        field,
        { maxKeys: 5 },
      )
      .map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 60 }),
  );

  it.each(ROUTES)('$method $path never answers 5xx or a stack trace', async ({ method, path: template }) => {
    await fc.assert(
      fc.asyncProperty(pathId, query, body, async (id, q, payload) => {
        const url = `${origin()}${template.replace(':id', id)}${q ? `?${q}` : ''}`;
        const headers: Record<string, string> = { cookie, origin: origin() };
        if (method !== 'GET') headers['content-type'] = 'application/json';
        const res = await inProcess(url, { method, headers, body: method === 'GET' ? undefined : payload });
        const text = await res.text();
        expect(res.status, `${method} ${url} ${payload}: ${text.slice(0, 200)}`).toBeLessThan(500);
        expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
        if (res.status >= 400 && res.status !== 405) {
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          expect(typeof parsed.error?.code, text).toBe('string');
          expect(typeof parsed.error?.message, text).toBe('string');
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
