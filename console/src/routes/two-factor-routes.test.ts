import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDb, createSession, createUser, type Database, migrateToLatest, sessionUser, startEmbeddedPostgres } from '@vigil/db';
import type { Kysely } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** What SvelteKit's redirect() throws: its status and location; anything else is thrown on. */
async function redirected(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const r = e as { status?: number; location?: string };
    if (r.status === 303 && r.location) return r.location;
    throw e;
  }
  throw new Error('no redirect');
}

const codeAt = (secret: string, ms: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

// The two-factor pages' loads and actions as SvelteKit calls them, on a database over the wire.
describe('two-factor pages', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-2fa-routes-'));
  let stop: () => Promise<void>;
  let db: Kysely<Database>;
  beforeAll(async () => {
    const server = await startEmbeddedPostgres(dir);
    stop = server.stop;
    db = await createDb(server.url, { max: 1 });
    await migrateToLatest(db);
    vi.stubEnv('DATABASE_URL', server.url);
    vi.stubEnv('VIGIL_LOG_LEVEL', 'silent');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await db.destroy();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const event = (
    locals: Record<string, unknown>,
    form: Record<string, string> = {},
    cookies: Record<string, string> = {},
    url = 'http://localhost/',
  ) =>
    ({
      locals: { principal: null, pending: null, ...locals },
      url: new URL(url),
      request: new Request('http://localhost/', { method: 'POST', body: new URLSearchParams(form) }),
      cookies: { get: (n: string) => cookies[n], set: () => {}, delete: () => {} },
      getClientAddress: () => '192.0.2.1',
    }) as never;

  it('sets up, uses, renews and turns off two factors; and completes a half sign-in', async () => {
    const ada = await createUser(db, { name: 'ada', role: 'operator', password: 'ada-long-password-1' });
    const page = await import('./account/two-factor/+page.server');
    const acts = page.actions as unknown as Record<'begin' | 'confirm' | 'codes' | 'disable', (e: never) => Promise<unknown>>;
    const signedIn = { principal: { user: ada, via: 'session' } };
    expect(await redirected(page.load(event({}) as never) as Promise<unknown>)).toBe('/login?next=/account/two-factor');
    expect(await page.load(event(signedIn))).toMatchObject({ name: 'ada', enabled: false, required: false, mustEnrol: false });
    expect(await acts.confirm(event(signedIn, { code: '123456' }))).toMatchObject({ status: 400, data: { message: /no setup/ } });
    const begun = (await acts.begin(event(signedIn))) as { secret: string; qrSvg: string };
    expect(begun.qrSvg).toMatch(/^<svg/);
    const wrong = (await acts.confirm(event(signedIn, { code: codeAt(begun.secret, Date.now() + 600_000) }))) as {
      status: number;
      data: { secret: string };
    };
    expect(wrong).toMatchObject({ status: 400, data: { action: 'begin', secret: begun.secret } });
    const on = (await acts.confirm(event(signedIn, { code: codeAt(begun.secret, Date.now()) }))) as { recoveryCodes: string[] };
    expect(on.recoveryCodes).toHaveLength(10);
    expect(await page.load(event(signedIn))).toMatchObject({ enabled: true, recoveryCodesLeft: 10 });
    // New recovery codes with a recovery code; then off with another new one.
    const renewed = (await acts.codes(event(signedIn, { code: on.recoveryCodes[0]! }))) as { recoveryCodes: string[] };
    expect(renewed.recoveryCodes).toHaveLength(10);
    expect(await acts.codes(event(signedIn, { code: on.recoveryCodes[1]! }))).toMatchObject({ status: 400 }); // the old ones are gone

    // A half sign-in: the code page, then the session signs its user in.
    const { token } = await createSession(db, ada.id, { secondFactorPending: true });
    const verify = await import('./login/two-factor/+page.server');
    const submit = verify.actions.default as (e: never) => Promise<unknown>;
    const pending = { pending: { user: ada, stage: 'verify' } };
    expect(await verify.load(event(pending, {}, {}, 'http://localhost/login/two-factor?next=/events'))).toEqual({
      name: 'ada',
      next: '/events',
    });
    expect(await redirected(verify.load(event({}) as never) as Promise<unknown>)).toBe('/login');
    expect(
      await redirected(verify.load(event(signedIn, {}, {}, 'http://localhost/login/two-factor?next=/events')) as Promise<unknown>),
    ).toBe('/events');
    expect(await submit(event(pending, { code: '000000' }, { vigil_session: token }))).toMatchObject({
      status: 400,
      data: { message: 'Wrong code.' },
    });
    expect(
      await redirected(
        submit(event(pending, { code: renewed.recoveryCodes[0]!, next: '/events' }, { vigil_session: token })) as Promise<unknown>,
      ),
    ).toBe('/events');
    expect((await sessionUser(db, token))?.session.second_factor_pending).toBe(false);
    const audit = await db.selectFrom('audit_log').select('action').orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['user.two_factor_on', 'user.recovery_codes_replaced', 'user.recovery_code_used']);

    // Off, unless the role must use it.
    const { setRequiredRoles } = await import('$lib/server/two-factor');
    await setRequiredRoles(db, ['operator']);
    expect(await acts.disable(event(signedIn, { code: renewed.recoveryCodes[1]! }))).toMatchObject({ status: 403 });
    await setRequiredRoles(db, []);
    expect(await acts.disable(event(signedIn, { code: '000000' }))).toMatchObject({ status: 400 });
    expect(await acts.disable(event(signedIn, { code: renewed.recoveryCodes[2]! }))).toEqual({ action: 'disable', disabled: true });
    expect(await page.load(event(signedIn))).toMatchObject({ enabled: false, recoveryCodesLeft: 0 });
  });
});
