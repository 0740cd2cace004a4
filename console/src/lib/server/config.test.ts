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
