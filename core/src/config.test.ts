import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { ConfigError, integer, listenAddress, parseDuration, parseEnv, readSecretFiles, seconds, showValue } from './config.js';
import { createLogger, silentLogger } from './log.js';
import { captureLog } from './testing/log.js';

describe('env helpers', () => {
  const schema = z.object({ N: integer(7, { min: 1, max: 10 }) });
  it.each([
    [undefined, 7],
    ['3', 3],
    [' 10 ', 10],
  ])('integer %j → %d', (v, n) => expect(parseEnv(schema, { N: v }).N).toBe(n));
  it.each(['0', '11', '2.5', 'two'])('integer refuses %j', (v) => expect(() => parseEnv(schema, { N: v })).toThrow(ConfigError));
  it('reads an empty value as unset', () => expect(parseEnv(schema, { N: '' }).N).toBe(7));
});

describe('createLogger', () => {
  it('writes JSON lines, or pretty lines when asked', () => {
    expect(createLogger('t', 'info').level).toBe('info');
    const pretty = createLogger('t', 'debug', true);
    expect(pretty.level).toBe('debug');
    expect(pretty.isLevelEnabled('trace')).toBe(false);
  });
});

describe('showValue', () => {
  it.each([
    ['VIGIL_EXPORTER_TOKEN', 'abcdef', '(hidden)'],
    ['DATABASE_URL', 'postgres://vigil:s3cret@db.lan:5432/vigil', '"postgres://vigil:***@db.lan:5432/vigil"'],
    ['VIGIL_EXPORTER_LISTEN', 'nowhere', '"nowhere"'],
  ])('%s=%s is quoted as %s', (name, value, shown) => expect(showValue(name, value)).toBe(shown));

  it('never quotes a password from a bad DATABASE_URL in the error', () => {
    const schema = z.object({ DATABASE_URL: z.string().check(z.regex(/^postgres:/, 'expected postgres://')) });
    expect(() => parseEnv(schema, { DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrow(ConfigError);
    try {
      parseEnv(schema, { DATABASE_URL: 'mysql://root:hunter2@db/x' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
      expect((e as Error).message).toContain('mysql://root:***@db/x');
    }
  });
});

describe('durations and addresses', () => {
  it.each([
    ['15', 15],
    ['15s', 15],
    ['500ms', 0.5],
    ['2m', 120],
    ['1h', 3600],
    ['7d', 604_800],
    ['soon', null],
    ['-5s', null],
  ])('parseDuration(%j) → %j', (s, v) => expect(parseDuration(s)).toBe(v));

  it('refuses a duration out of range with the range', () => {
    const schema = z.object({ T: seconds(5, { min: 1, max: 60 }) });
    expect(() => parseEnv(schema, { T: '100000h' })).toThrow(/T: expected a duration between 1 s and 60 s/);
  });

  it.each([
    [':9110', { host: '0.0.0.0', port: 9110 }],
    ['[::1]:3000', { host: '::1', port: 3000 }],
    ['10.0.0.5:80', { host: '10.0.0.5', port: 80 }],
  ])('listen address %s', (s, v) => expect(parseEnv(z.object({ L: listenAddress('127.0.0.1:1') }), { L: s }).L).toEqual(v));
});

describe('loggers', () => {
  it('writes JSON lines to a given stream, and nothing when silent', () => {
    const { log, lines } = captureLog('info');
    log.info({ a: 1 }, 'hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ name: 'test', msg: 'hello', a: 1 });
    expect(silentLogger().isLevelEnabled('fatal')).toBe(false);
  });
});

describe('logged errors', () => {
  it('never carry the raw request bytes or headers an HTTP error holds', () => {
    const { log, lines } = captureLog('info');
    const err = Object.assign(new Error('Parse Error: Invalid character in chunk size'), {
      code: 'HPE_INVALID_CHUNK_SIZE',
      rawPacket: Buffer.from('GET / HTTP/1.1\r\nAuthorization: Bearer hunter2hunter2hunter2\r\n'),
      headers: { authorization: 'Bearer hunter2hunter2hunter2' },
    });
    log.error({ err }, 'request failed');
    expect(lines.join('')).not.toContain('hunter2');
    expect(lines.join('')).not.toContain(String(Buffer.from('hunter2')[0]) + ',' + String(Buffer.from('hunter2')[1]));
    expect(JSON.parse(lines[0]!).err).toMatchObject({
      message: 'Parse Error: Invalid character in chunk size',
      code: 'HPE_INVALID_CHUNK_SIZE',
    });
  });
});

describe('readSecretFiles', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads NAME from NAME_FILE, dropping the trailing newline only', () => {
    const p = file('token', ' s3cret-token-0123456789 \r\n');
    const env = readSecretFiles({ TOKEN_FILE: p, OTHER: 'x' }, ['TOKEN']);
    expect(env).toEqual({ TOKEN_FILE: p, TOKEN: ' s3cret-token-0123456789 ', OTHER: 'x' });
  });

  it('leaves the environment as it is without NAME_FILE, or with it empty', () => {
    expect(readSecretFiles({ TOKEN: 'a' }, ['TOKEN'])).toEqual({ TOKEN: 'a' });
    expect(readSecretFiles({ TOKEN: 'a', TOKEN_FILE: '' }, ['TOKEN'])).toEqual({ TOKEN: 'a', TOKEN_FILE: '' });
  });

  it('refuses both at once, an unreadable file and an empty one, naming the file and never a secret', () => {
    const p = file('both', 'from-the-file-0123456789');
    expect(() => readSecretFiles({ TOKEN: 'from-the-env-0123456789', TOKEN_FILE: p }, ['TOKEN'])).toThrow(
      /TOKEN_FILE: TOKEN is set too; set one of them/,
    );
    const missing = path.join(dir, 'missing');
    expect(() => readSecretFiles({ TOKEN_FILE: missing }, ['TOKEN'])).toThrow(new RegExp(`cannot read "${missing}" \\(ENOENT\\)`));
    expect(() => readSecretFiles({ TOKEN_FILE: file('empty', '\n') }, ['TOKEN'])).toThrow(/is empty/);
    try {
      readSecretFiles({ TOKEN: 'from-the-env-0123456789', TOKEN_FILE: p }, ['TOKEN']);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).not.toMatch(/from-the/);
    }
  });
});
