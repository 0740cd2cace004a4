import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, credentialOf, originAllowed, POLICY } from './auth';
import { LoginThrottle } from './throttle';

const ROUTES = path.resolve(import.meta.dirname, '../../routes');

/** Every SvelteKit route id under src/routes (a folder with a page or an endpoint). */
function routeIds(dir = ROUTES): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  const here = entries.some((e) => e.isFile() && /^\+(page(\.server)?\.ts|page\.svelte|server\.ts)$/.test(e.name))
    ? [`/${path.relative(ROUTES, dir)}`.replace(/\/$/, '') || '/']
    : [];
  return [...here, ...entries.filter((e) => e.isDirectory()).flatMap((e) => routeIds(path.join(dir, e.name)))];
}

describe('the access policy', () => {
  it('names every route there is, and no route there is not', () => {
    expect(routeIds().sort()).toEqual(Object.keys(POLICY).sort());
  });

  const console = new URL('https://vigil.example.com');
  const as = (role: 'admin' | 'viewer', via: 'session' | 'api_key' = 'session') => ({
    user: { id: 1, name: role, role, created_at: new Date(), password_changed_at: new Date() },
    via,
  });

  it('refuses a route it does not know, and a method a route does not offer', () => {
    expect(authorize('/secret', 'GET', as('admin'), null, console)).toMatchObject({ ok: false, status: 404 });
    expect(authorize('/', 'POST', as('admin'), console.origin, console)).toMatchObject({ ok: false, status: 405 });
    expect(authorize(null, 'GET', null, null, console)).toEqual({ ok: true });
  });

  it('checks the Origin of writes before anything else', () => {
    expect(originAllowed('GET', 'https://evil.example', console, false)).toBe(true);
    expect(originAllowed('POST', 'https://vigil.example.com', console, false)).toBe(true);
    expect(originAllowed('POST', 'https://evil.example', console, true)).toBe(false);
    expect(originAllowed('DELETE', null, console, false)).toBe(false);
    expect(originAllowed('DELETE', null, console, true)).toBe(true);
    expect(authorize('/login', 'POST', null, 'https://evil.example', console)).toMatchObject({ status: 403, code: 'forbidden_origin' });
  });

  it('says which role a refused request needs', () => {
    expect(authorize('/api/v1/users', 'GET', as('viewer'), null, console)).toEqual({
      ok: false,
      status: 403,
      code: 'forbidden',
      message: 'this needs the admin role or above; viewer is viewer',
    });
  });

  it('takes an API key from Authorization or X-API-Key before the cookie', () => {
    const cookies = { get: (n: string) => (n === 'vigil_session' ? 'tok' : undefined) };
    expect(credentialOf(new Headers({ authorization: 'Bearer vgl_x' }), cookies)).toEqual({ apiKey: 'vgl_x' });
    expect(credentialOf(new Headers({ 'x-api-key': 'vgl_y' }), cookies)).toEqual({ apiKey: 'vgl_y' });
    expect(credentialOf(new Headers(), cookies)).toEqual({ session: 'tok' });
    expect(credentialOf(new Headers(), { get: () => undefined })).toBeNull();
  });
});

describe.each(testDatabases())('LoginThrottle on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterAll(() => drop());
  /** Moves every recorded failure `seconds` into the past. */
  const age = (seconds: number) =>
    db
      .updateTable('login_failures')
      .set({ at: sql`at - make_interval(secs => ${seconds})` })
      .execute();

  it('refuses an account after 5 failures until the oldest leaves the 15-minute window', async () => {
    const t = new LoginThrottle(5, 20, 900);
    for (let i = 0; i < 5; i++) {
      expect(await t.retryAfter(db, 'ada', '192.0.2.1')).toBe(0);
      await t.fail(db, 'ada', '192.0.2.1');
      await age(1);
    }
    // The oldest failure is 5 s old: 895 s to go (give or take the test's own second).
    expect(await t.retryAfter(db, 'ada', '192.0.2.9')).toBeGreaterThanOrEqual(894);
    expect(await t.retryAfter(db, 'ada', '192.0.2.9')).toBeLessThanOrEqual(896);
    expect(await t.retryAfter(db, 'bob', '192.0.2.9')).toBe(0);
    // A second console replica, its own throttle object, sees the same counts.
    expect(await new LoginThrottle(5, 20, 900).retryAfter(db, 'ada', null)).toBeGreaterThan(0);
    await age(900);
    expect(await t.retryAfter(db, 'ada', '192.0.2.1')).toBe(0);
    // Failures past the window are deleted at the next failure.
    await t.fail(db, 'eve', null);
    expect((await db.selectFrom('login_failures').select('key').execute()).map((r) => r.key)).toEqual(['u:eve']);
  });

  it('refuses an address after 20 failures whatever the names', async () => {
    const t = new LoginThrottle(5, 20, 900);
    for (let i = 0; i < 20; i++) await t.fail(db, `user${i}`, '192.0.2.50');
    expect(await t.retryAfter(db, 'someone', '192.0.2.50')).toBeGreaterThan(890);
    expect(await t.retryAfter(db, 'someone', '192.0.2.51')).toBe(0);
  });

  it('forgets an account’s failures once it signs in', async () => {
    const t = new LoginThrottle(2, 20, 900);
    await t.fail(db, 'zed', null);
    await t.succeed(db, 'zed');
    await t.fail(db, 'zed', null);
    expect(await t.retryAfter(db, 'zed', null)).toBe(0);
  });
});
