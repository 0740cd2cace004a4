import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDb, createUser, type Database, migrateToLatest, sessionUser, startEmbeddedPostgres } from '@vigil/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { safeNext, signIn, signOut } from './login';

/** A cookie jar with SvelteKit's Cookies methods the sign-in uses, recording the options of each set. */
function jar(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  const options = new Map<string, unknown>();
  return {
    values,
    options,
    get: (n: string) => values.get(n),
    set: (n: string, v: string, o: unknown) => {
      values.set(n, v);
      options.set(n, o);
    },
    delete: (n: string) => {
      values.delete(n);
    },
  };
}

describe('signIn and signOut', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-login-'));
  let stop: () => Promise<void>;
  let db: Kysely<Database>;
  beforeAll(async () => {
    const server = await startEmbeddedPostgres(dir);
    stop = server.stop;
    db = await createDb(server.url, { max: 2 });
    await migrateToLatest(db);
    await createUser(db, { name: 'ada', role: 'operator', password: 'ada-password-1' });
    vi.stubEnv('VIGIL_LOG_LEVEL', 'silent');
    vi.stubEnv('VIGIL_CONSOLE_ORIGIN', 'https://vigil.example.com');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await db.destroy();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a fresh session with a Secure cookie over https, replacing the one that came in', async () => {
    const cookies = jar({ vigil_session: 'stale-token' });
    const meta = { clientAddress: '192.0.2.5', userAgent: 'test' };
    const outcome = await signIn(db, cookies as never, { name: ' ADA ', password: 'ada-password-1' }, meta);
    expect(outcome).toMatchObject({ ok: true, user: { name: 'ada' } });
    const token = cookies.values.get('vigil_session')!;
    expect(token).not.toBe('stale-token');
    expect(cookies.options.get('vigil_session')).toMatchObject({ httpOnly: true, sameSite: 'lax', path: '/', secure: true });
    expect((await sessionUser(db, token))?.user.name).toBe('ada');
    await signOut(db, cookies as never);
    expect(cookies.values.has('vigil_session')).toBe(false);
    expect(await sessionUser(db, token)).toBeNull();
  });

  it('answers a wrong password and an empty form alike, then throttles', async () => {
    const cookies = jar();
    const meta = { clientAddress: '192.0.2.6', userAgent: null };
    expect(await signIn(db, cookies as never, { name: 'ada', password: '' }, meta)).toMatchObject({ ok: false, status: 400 });
    for (let i = 0; i < 4; i++) await signIn(db, cookies as never, { name: 'ada', password: 'wrong-password' }, meta);
    expect(await signIn(db, cookies as never, { name: 'ada', password: 'ada-password-1' }, meta)).toMatchObject({
      ok: false,
      status: 429,
      message: expect.stringMatching(/Try again in \d+ min/),
    });
    expect(cookies.values.size).toBe(0);
  });
});

describe('safeNext', () => {
  it.each([
    [null, '/'],
    ['/events', '/events'],
    ['/hosts/3?range=24h', '/hosts/3?range=24h'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['events', '/'],
  ])('%s → %s', (next, want) => expect(safeNext(next)).toBe(want));
});
