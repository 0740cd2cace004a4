import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addTarget, createDb, migrateToLatest, startEmbeddedPostgres } from '@vigil/db';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handle, handleError } from '../hooks.server';

// The route loads as SvelteKit calls them, against a database served over the wire
// (as the console always reaches it).
describe('console routes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-routes-'));
  let stop: () => Promise<void>;
  let targetId: number;
  beforeAll(async () => {
    const server = await startEmbeddedPostgres(dir);
    stop = server.stop;
    const db = await createDb(server.url, { max: 1 });
    await migrateToLatest(db);
    targetId = (await addTarget(db, { name: 'pi-1', url: 'http://pi-1/metrics' })).id;
    await db.destroy();
    vi.stubEnv('DATABASE_URL', server.url);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the fleet, a host, and events', async () => {
    const depends: string[] = [];
    const fleet = await (await import('./+page.server')).load({ depends: (d: string) => depends.push(d) } as never);
    expect(fleet).toMatchObject({ rows: [{ name: 'pi-1', state: 'unknown', heartbeat: null }], trends: {} });
    expect(depends).toEqual(['vigil:trends']); // read again each minute for the sparklines
    expect((fleet as { serverTime: number }).serverTime).toBeGreaterThan(0);
    const { load: loadHost } = await import('./hosts/[id]/+page.server');
    const as = (role: string | null) =>
      ({
        params: { id: String(targetId) },
        url: new URL(`http://localhost/hosts/${targetId}?range=7d`),
        locals: { principal: role ? { user: { role } } : null },
      }) as never;
    expect(await loadHost(as('operator'))).toMatchObject({
      target: { name: 'pi-1' },
      heartbeats: [],
      events: [],
      canOperate: true,
      range: '7d',
      series: { resolution: 'hourly', time: [] },
      interfaces: { resolution: 'hourly', time: [], series: {} },
      containers: { resolution: 'hourly', time: [], series: {} },
      probes: [],
      inventory: { containers: [], services: [] },
    });
    expect(await loadHost(as('developer'))).toMatchObject({ canOperate: false });
    const { load: loadEvents } = await import('./events/+page.server');
    const events = await loadEvents({ url: new URL(`http://localhost/events?host=${targetId}&type=state&page=2`) } as never);
    expect(events).toMatchObject({ events: [], total: 0, page: 2, filter: { host: targetId, type: 'state' }, hosts: [{ name: 'pi-1' }] });
    const unfiltered = await loadEvents({ url: new URL('http://localhost/events?host=abc&type=bogus&page=-3') } as never);
    expect(unfiltered).toMatchObject({ page: 1, filter: { host: null, type: null } });
  });

  it.each(['0', 'abc', '999999', '2147483648', '99999999999999999999', '1e3', '-1'])('answers 404 for host %s', async (id) => {
    const { load } = await import('./hosts/[id]/+page.server');
    await expect(load({ params: { id }, url: new URL(`http://localhost/hosts/${id}`) } as never)).rejects.toMatchObject({ status: 404 });
  });
});

describe('handleError', () => {
  it('hides unexpected errors behind an id, and says so when the database is away', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const secret = handleError({
      error: new Error('password=hunter2 in query'),
      status: 500,
      message: 'Internal Error',
      event: {} as never,
    });
    expect(secret).toMatchObject({ message: 'Internal error', errorId: expect.any(String) });
    expect(JSON.stringify(secret)).not.toContain('hunter2');
    const db = handleError({
      error: new Error('connect ECONNREFUSED 127.0.0.1:5432'),
      status: 500,
      message: 'Internal Error',
      event: {} as never,
    });
    expect((db as { message: string }).message).toMatch(/database cannot be reached/);
    expect(handleError({ error: new Error('x'), status: 404, message: 'Not Found', event: {} as never })).toEqual({ message: 'Not Found' });
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
  });
});

describe('getDb', () => {
  it('refuses to open embedded PGlite itself', async () => {
    vi.resetModules();
    vi.stubEnv('DATABASE_URL', `pglite://${mkdtempSync(path.join(tmpdir(), 'vigil-none-'))}`);
    try {
      const { getDb } = await import('$lib/server/db');
      expect(() => getDb()).toThrow(/console needs DATABASE_URL=postgres/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('the Host check (DNS rebinding)', () => {
  const request = (host: string) =>
    handle({
      event: {
        request: new Request('http://x/api/v1/health', { headers: { host } }),
        url: new URL('http://x/api/v1/health'),
        route: { id: '/api/v1/health' },
        cookies: { get: () => undefined, delete: () => {} },
        locals: {},
      } as never,
      resolve: async () => new Response('page'),
    });

  it.each(['localhost:3000', '127.0.0.1:3000', '[::1]:3000'])('serves Host %s', async (host) => {
    vi.stubEnv('VIGIL_CONSOLE_LISTEN', '127.0.0.1:3000');
    expect((await request(host)).status).toBe(200);
  });

  it.each(['evil.example:3000', 'localhost.evil.example:3000', 'localhost:3001'])(
    'refuses Host %s with 421, saying which origin it serves',
    async (host) => {
      const r = await request(host);
      expect(r.status).toBe(421);
      expect(await r.text()).toMatch(/answers to localhost:3000; set VIGIL_CONSOLE_ORIGIN/);
    },
  );
});
