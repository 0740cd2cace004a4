import { freePort } from '@vigil/core/testing';
import { createUser, type Database, sessionUser } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OidcConfig } from './config';

/** A cookie jar with SvelteKit's Cookies methods the flow uses. */
function jar() {
  const values = new Map<string, string>();
  return {
    values,
    get: (n: string) => values.get(n),
    set: (n: string, v: string) => void values.set(n, v),
    delete: (n: string) => void values.delete(n),
  };
}

/** A browser's way through the provider's own pages (its development login and consent forms), by HTTP. */
function browser() {
  const cookies = new Map<string, string>();
  const go = async (url: string, form?: Record<string, string>) => {
    const r = await fetch(url, {
      redirect: 'manual',
      method: form ? 'POST' : 'GET',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form) : undefined,
    });
    for (const c of r.headers.getSetCookie()) {
      const kv = c.split(';')[0]!;
      cookies.set(kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1));
    }
    return r;
  };
  /** Follows redirects from `url` until one leaves for `until`; fills the login and consent forms on the way. */
  return async (url: string, login: string, until: string): Promise<URL> => {
    let next = url;
    for (let i = 0; i < 20; i++) {
      const r = await go(next);
      const location = r.headers.get('location');
      if (location) {
        const to = new URL(location, next);
        if (to.href.startsWith(until)) return to;
        next = to.href;
        continue;
      }
      const html = await r.text();
      const action = new URL(/action="([^"]+)"/.exec(html)![1]!, next).href;
      const form: Record<string, string> = html.includes('name="login"')
        ? { prompt: 'login', login, password: 'anything' }
        : { prompt: 'consent' };
      const posted = await go(action, form);
      next = new URL(posted.headers.get('location')!, action).href;
      if (next.startsWith(until)) return new URL(next);
    }
    throw new Error('no way back from the provider');
  };
}

describe.each(testDatabases())('the OpenID sign-in flow, in process, against a real provider, on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let o: OidcConfig;
  let server: import('node:http').Server;
  const base = 'http://127.0.0.1:3999';
  beforeAll(async () => {
    vi.stubEnv('VIGIL_LOG_LEVEL', 'silent');
    vi.stubEnv('VIGIL_CONSOLE_ORIGIN', base);
    ({ db, drop } = await engine.open());
    await createUser(db, { name: 'ada', role: 'operator', password: 'ada-long-password-1' });
    const issuer = `http://127.0.0.1:${await freePort()}`;
    const provider = new Provider(issuer, {
      clients: [{ client_id: 'vigil', client_secret: 'a-client-secret-of-some-length', redirect_uris: [`${base}/login/oidc/callback`] }],
      pkce: { required: () => true },
      claims: { openid: ['sub'], profile: ['preferred_username', 'groups'], email: ['email'] },
      // Groups only in userinfo, as some providers give them: the flow reads them there.
      findAccount: async (_ctx, sub) => ({
        accountId: sub,
        claims: async (use) => ({
          sub,
          preferred_username: sub,
          ...(use === 'userinfo' ? { groups: sub === 'eve' ? 'strangers' : 'homelab' } : {}),
        }),
      }),
    });
    server = await new Promise((resolve) => {
      const s = provider.listen(Number(new URL(issuer).port), '127.0.0.1', () => resolve(s));
    });
    o = {
      issuer: new URL(issuer),
      clientId: 'vigil',
      clientSecret: 'a-client-secret-of-some-length',
      name: 'Test IdP',
      scopes: 'openid profile',
      roleClaim: 'groups',
      roles: [['homelab', 'viewer']],
    };
  });
  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await drop();
    vi.unstubAllEnvs();
  });

  it('signs in with the role from userinfo, then refuses a spent flow, a provider error and an unmapped user', async () => {
    const { beginOidc, finishOidc, OIDC_COOKIE, redirectUri } = await import('./oidc');
    expect(redirectUri()).toBe(`${base}/login/oidc/callback`);
    const cookies = jar();
    const meta = { clientAddress: '192.0.2.9', userAgent: 'test' };
    const authorize = await beginOidc(o, cookies as never, '/events');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(cookies.values.has(OIDC_COOKIE)).toBe(true);
    const back = await browser()(authorize.href, 'carol', `${base}/`);
    const outcome = await finishOidc(db, o, cookies as never, back, meta);
    expect(outcome).toEqual({ ok: true, next: '/events', name: 'carol' });
    expect(cookies.values.has(OIDC_COOKIE)).toBe(false);
    expect((await sessionUser(db, cookies.values.get('vigil_session')!))?.user).toMatchObject({ name: 'carol', role: 'viewer' });
    // The same answer again: the flow was spent.
    expect(await finishOidc(db, o, cookies as never, back, meta)).toMatchObject({
      ok: false,
      status: 400,
      message: expect.stringMatching(/No sign-in was under way/),
    });
    // The provider said no (the user cancelled).
    await beginOidc(o, cookies as never, '/');
    const denied = new URL(`${base}/login/oidc/callback?error=access_denied&error_description=cancelled`);
    expect(await finishOidc(db, o, cookies as never, denied, meta)).toEqual({
      ok: false,
      status: 403,
      message: 'Test IdP did not sign you in (access_denied: cancelled).',
    });
    // Groups that map to nothing.
    const again = await beginOidc(o, cookies as never, '/');
    const eve = await browser()(again.href, 'eve', `${base}/`);
    expect(await finishOidc(db, o, cookies as never, eve, meta)).toMatchObject({ ok: false, status: 403 });
  });

  it('says the provider cannot be reached, and tries again the next time', async () => {
    const { beginOidc } = await import('./oidc');
    const gone = { ...o, issuer: new URL('http://127.0.0.1:9/') };
    await expect(beginOidc(gone, jar() as never, '/')).rejects.toThrow(
      /cannot read the OpenID provider's configuration at http:\/\/127\.0\.0\.1:9\//,
    );
    await expect(beginOidc(gone, jar() as never, '/')).rejects.toThrow(/cannot read/);
  });
});
