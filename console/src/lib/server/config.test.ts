import { variableDocProblems } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { CONSOLE_HELP, CONSOLE_SCHEMA, CONSOLE_VARIABLE_DOCS, hostAllowed, loadConsoleConfig } from './config';

describe('loadConsoleConfig', () => {
  it('defaults the origin to localhost on the listen port', () => {
    const c = loadConsoleConfig({ VIGIL_CONSOLE_LISTEN: '127.0.0.1:3100' });
    expect(c.origin.origin).toBe('http://localhost:3100');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 3100 });
  });

  it('takes the origin it is told, and refuses one that is not an http(s) URL', () => {
    expect(loadConsoleConfig({ VIGIL_CONSOLE_ORIGIN: 'https://vigil.example.com/some/path' }).origin.origin).toBe(
      'https://vigil.example.com',
    );
    expect(() => loadConsoleConfig({ VIGIL_CONSOLE_ORIGIN: 'vigil.example.com' })).toThrow(
      /VIGIL_CONSOLE_ORIGIN: expected the URL browsers use/,
    );
  });

  it('never quotes a database password back', () => {
    expect(() => loadConsoleConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrow(/mysql:\/\/root:\*\*\*@db\/x/);
  });
});

describe('sign-in through an OpenID provider (VIGIL_OIDC_*)', () => {
  const base = { VIGIL_OIDC_ISSUER: 'https://auth.example.com/application/o/vigil/', VIGIL_OIDC_CLIENT_ID: 'vigil' };

  it('is off without an issuer, and takes the provider, its secret from a file and the role mapping in order', async () => {
    expect(loadConsoleConfig({}).oidc).toBeNull();
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(`${(await import('node:os')).tmpdir()}/vigil-oidc-`);
    writeFileSync(`${dir}/secret`, 'from-a-file\n');
    const o = loadConsoleConfig({
      ...base,
      VIGIL_OIDC_CLIENT_SECRET_FILE: `${dir}/secret`,
      VIGIL_OIDC_ROLES: ' vigil-admins=admin , homelab = viewer,*=viewer',
    }).oidc!;
    expect(o).toMatchObject({
      clientId: 'vigil',
      clientSecret: 'from-a-file',
      name: 'single sign-on',
      scopes: 'openid profile email',
      roleClaim: 'groups',
      roles: [
        ['vigil-admins', 'admin'],
        ['homelab', 'viewer'],
        ['*', 'viewer'],
      ],
    });
    expect(o.issuer.href).toBe('https://auth.example.com/application/o/vigil/');
  });

  it.each([
    [{ VIGIL_OIDC_ISSUER: 'https://auth.example.com' }, /VIGIL_OIDC_CLIENT_ID: expected the client id/],
    [{ ...base, VIGIL_OIDC_ISSUER: 'http://auth.example.com' }, /VIGIL_OIDC_ISSUER: expected an https:\/\/ issuer/],
    [{ ...base, VIGIL_OIDC_ISSUER: 'auth.example.com' }, /VIGIL_OIDC_ISSUER: expected the provider's issuer URL/],
    [{ ...base, VIGIL_OIDC_ROLES: 'admins=root' }, /VIGIL_OIDC_ROLES: expected value=role pairs.*got "admins=root"/],
    [{ ...base, VIGIL_OIDC_ROLES: 'admins' }, /VIGIL_OIDC_ROLES: expected value=role pairs/],
  ])('refuses %j, saying what to give', (env, message) => {
    expect(() => loadConsoleConfig(env)).toThrow(message);
  });

  it('allows a plain-http issuer on loopback only (a provider run beside the console)', () => {
    expect(loadConsoleConfig({ ...base, VIGIL_OIDC_ISSUER: 'http://127.0.0.1:9000' }).oidc?.issuer.host).toBe('127.0.0.1:9000');
    expect(loadConsoleConfig({ ...base, VIGIL_OIDC_ISSUER: 'http://localhost:9000' }).oidc).not.toBeNull();
  });
});

describe('hostAllowed', () => {
  const origin = new URL('https://vigil.example.com');
  it.each([
    ['vigil.example.com', true],
    ['VIGIL.example.com', true],
    ['10.0.0.5:3000', true],
    ['[::1]:3000', true],
    ['evil.example', false],
    ['vigil.example.com.evil.example', false],
    ['', false],
  ])('%s → %s', (host, ok) => expect(hostAllowed(host, origin)).toBe(ok));
  it('refuses a request without a Host', () => expect(hostAllowed(null, origin)).toBe(false));
});

describe("the console's variables", () => {
  it('are described once, and its --help, the README and the schema agree (names, defaults, meanings)', () => {
    expect(variableDocProblems('console', CONSOLE_SCHEMA, CONSOLE_VARIABLE_DOCS, CONSOLE_HELP)).toEqual([]);
  });
});
