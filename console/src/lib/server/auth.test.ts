import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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

describe('LoginThrottle', () => {
  it('refuses an account after 5 failures until the oldest leaves the 15-minute window', () => {
    let now = 0;
    const t = new LoginThrottle(5, 20, 900, () => now);
    for (let i = 0; i < 5; i++) {
      expect(t.retryAfter('ada', '192.0.2.1')).toBe(0);
      t.fail('ada', '192.0.2.1');
      now += 1000;
    }
    expect(t.retryAfter('ada', '192.0.2.9')).toBe(895);
    expect(t.retryAfter('bob', '192.0.2.9')).toBe(0);
    now = 900_001;
    expect(t.retryAfter('ada', '192.0.2.1')).toBe(0);
  });

  it('refuses an address after 20 failures whatever the names', () => {
    const t = new LoginThrottle(5, 20, 900, () => 0);
    for (let i = 0; i < 20; i++) t.fail(`user${i}`, '192.0.2.1');
    expect(t.retryAfter('someone', '192.0.2.1')).toBe(900);
    expect(t.retryAfter('someone', '192.0.2.2')).toBe(0);
  });

  it('forgets an account’s failures once it signs in', () => {
    const t = new LoginThrottle(2, 20, 900, () => 0);
    t.fail('ada', null);
    t.succeed('ada');
    t.fail('ada', null);
    expect(t.retryAfter('ada', null)).toBe(0);
  });
});
