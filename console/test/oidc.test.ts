import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureBuilt, freePort, packageBin } from '@vigil/core/testing';
import { createDb, createUser, type Database, migrateToLatest } from '@vigil/db';
import type { Kysely } from 'kysely';
import Provider from 'oidc-provider';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launchBrowser, seriousAxeViolations } from './browser.js';
import { sharedTestDatabase } from './database.js';
import { started } from './relay.js';

/** Who the test provider knows: the groups each login gets (its dev login page takes any name and password). */
const GROUPS: Record<string, string[]> = {
  alice: ['vigil-admins', 'homelab'],
  bob: ['homelab'],
  ada: ['homelab'], // the same name as a local account, which is never taken over
  eve: ['strangers'],
};

const missing = browserMissing();

// Sign-in through a real OpenID Connect provider (panva's oidc-provider, run
// here on loopback) by the built console: the authorization code flow with
// PKCE in a browser, the role from the provider's groups, and the refusals.
describe.skipIf(missing)(`sign-in through an OpenID provider${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-oidc-'));
  const cleanups: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  let db: Kysely<Database>;
  let base = '';
  let issuer = '';
  let browser: Browser;
  const logs: string[] = [];

  beforeAll(async () => {
    ensureBuilt('console', 'dist/server.mjs', ['console/src', 'core/src', 'db/src', 'migrations/src']);
    const database = await sharedTestDatabase(dir, 'vigil_oidc');
    cleanups.push(() => database.drop());
    db = await createDb(database.url, { max: 2 });
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);
    await createUser(db, { name: 'ada', role: 'operator', password: 'ada-long-password-1' });

    const consolePort = await freePort();
    const providerPort = await freePort();
    base = `http://127.0.0.1:${consolePort}`;
    issuer = `http://127.0.0.1:${providerPort}`;
    const provider = new Provider(issuer, {
      clients: [{ client_id: 'vigil', client_secret: 'a-client-secret-of-some-length', redirect_uris: [`${base}/login/oidc/callback`] }],
      pkce: { required: () => true },
      claims: { openid: ['sub'], profile: ['preferred_username', 'groups'], email: ['email'] },
      findAccount: async (_ctx, sub) => ({
        accountId: sub,
        claims: async () => ({ sub, preferred_username: sub, email: `${sub}@example.com`, groups: GROUPS[sub] ?? [] }),
      }),
    });
    const server: Server = await new Promise((resolve) => {
      const s = provider.listen(providerPort, '127.0.0.1', () => resolve(s));
    });
    cleanups.push(
      () =>
        new Promise((r) => {
          server.closeAllConnections();
          server.close(r);
        }),
    );

    const child = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database.url,
        VIGIL_CONSOLE_LISTEN: `127.0.0.1:${consolePort}`,
        VIGIL_CONSOLE_ORIGIN: base,
        VIGIL_LOG_LEVEL: 'info',
        VIGIL_OIDC_ISSUER: issuer,
        VIGIL_OIDC_CLIENT_ID: 'vigil',
        VIGIL_OIDC_CLIENT_SECRET: 'a-client-secret-of-some-length',
        VIGIL_OIDC_NAME: 'Test IdP',
        VIGIL_OIDC_ROLES: 'homelab=viewer,vigil-admins=admin',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => logs.push(String(d)));
    child.stderr!.on('data', (d) => logs.push(String(d)));
    cleanups.push(() => child.kill('SIGKILL'));
    await started(child, /^console listening/, 'vigil-console');
    browser = await launchBrowser();
    cleanups.push(() => browser.close());
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** From the console's sign-in page to the provider and its login (and, the first time, consent), in a fresh browser. */
  async function throughProvider(login: string, beforeReturn?: (context: BrowserContext, page: Page) => Promise<void>) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/events`);
    await page.waitForURL(/\/login\?next=%2Fevents$/);
    await page.locator('[data-sign-in-oidc]').click();
    await page.waitForURL((u) => u.href.startsWith(base) === false);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('anything');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).waitFor();
    if (beforeReturn) await beforeReturn(context, page);
    await page.getByRole('button', { name: 'Continue' }).click();
    // Back at the console: on to where it was going, or its page saying why not.
    await page.waitForURL((u) => u.href.startsWith(base));
    await page.waitForLoadState();
    return { context, page };
  }
  const me = async (page: Page) => (await page.request.get(`${base}/api/v1/me`)).json();

  it('signs a user in through the provider with the role of their highest group, and keeps them linked', async () => {
    const { context, page } = await throughProvider('alice');
    await page.waitForURL(`${base}/events`);
    expect(await me(page)).toMatchObject({ name: 'alice', role: 'admin', via: 'session' });
    const cookies = await context.cookies(base);
    expect(cookies.map((c) => c.name)).toContain('vigil_session');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('vigil_oidc'); // the flow's cookie is spent
    // Signing in again is the same user: linked by issuer and subject.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.locator('[data-sign-in-oidc]').click();
    await page.waitForURL(`${base}/`);
    expect(await me(page)).toMatchObject({ name: 'alice', role: 'admin' });
    const users = await db
      .selectFrom('users')
      .innerJoin('user_identities', 'user_identities.user_id', 'users.id')
      .select(['name', 'role'])
      .execute();
    expect(users).toEqual([{ name: 'alice', role: 'admin' }]);
    const audit = await db.selectFrom('audit_log').select(['action', 'user_name']).where('action', 'like', '%oidc%').execute();
    expect(audit).toEqual([{ action: 'user.create_oidc', user_name: 'alice' }]);
    await context.close();
  });

  it('never takes over a local account of the same name: the provider’s ada becomes ada-2, a viewer', async () => {
    const { context, page } = await throughProvider('ada');
    await page.waitForURL(`${base}/events`);
    expect(await me(page)).toMatchObject({ name: 'ada-2', role: 'viewer' });
    const local = await db.selectFrom('users').select('role').where('name', '=', 'ada').executeTakeFirstOrThrow();
    expect(local.role).toBe('operator');
    await context.close();
  });

  it('refuses a user whose groups map to no role, saying so', async () => {
    const { context, page } = await throughProvider('eve');
    await expect.poll(() => page.locator('main').textContent()).toMatch(/Your account at Test IdP is in no group that has a role in Vigil/);
    expect((await page.request.get(`${base}/api/v1/me`)).status()).toBe(401);
    expect(await db.selectFrom('users').select('name').where('name', 'like', 'eve%').execute()).toEqual([]);
    expect(logs.join('')).toMatch(/OpenID sign-in refused: no role maps/);
    await context.close();
  });

  it('refuses a callback whose state does not match, one without a sign-in under way, and one whose nonce was changed', async () => {
    // State: the provider's answer to another sign-in (a forged link) is refused.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.locator('[data-sign-in-oidc]').click();
    await page.waitForURL((u) => !u.href.startsWith(base));
    const wrongState = await page.goto(`${base}/login/oidc/callback?code=forged&state=not-the-state&iss=${encodeURIComponent(issuer)}`);
    expect(wrongState?.status()).toBe(400);
    const text = await page.locator('main').textContent();
    expect(text, text ?? '').toMatch(/did not check out.*state/is);
    // No sign-in under way (the flow cookie was spent by that attempt).
    const none = await page.goto(`${base}/login/oidc/callback?code=forged&state=x`);
    expect(none?.status()).toBe(400);
    expect(await page.locator('main').textContent()).toMatch(/No sign-in was under way in this browser/);
    await context.close();

    // Nonce: the ID token's nonce must be the one this browser's sign-in made.
    const tampered = await throughProvider('bob', async (ctx) => {
      const [flow] = (await ctx.cookies()).filter((c) => c.name === 'vigil_oidc'); // its path is /login/oidc
      const value = JSON.parse(Buffer.from(flow!.value, 'base64url').toString());
      value.nonce = 'a-different-nonce';
      await ctx.addCookies([{ ...flow!, value: Buffer.from(JSON.stringify(value)).toString('base64url') }]);
    });
    await expect.poll(() => tampered.page.locator('main').textContent()).toMatch(/did not check out.*nonce/is);
    expect((await tampered.page.request.get(`${base}/api/v1/me`)).status()).toBe(401);
    await tampered.context.close();
  });

  it('keeps local accounts working beside it', async () => {
    const r = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: base, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'ada', password: 'ada-long-password-1' }),
    });
    expect(r.status).toBe(303);
    const cookie = r.headers.get('set-cookie')!.split(';')[0]!;
    expect(await (await fetch(`${base}/api/v1/me`, { headers: { cookie } })).json()).toMatchObject({ name: 'ada', role: 'operator' });
  });
});
