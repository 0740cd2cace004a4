import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, parseDuration } from '@vigil/core/config';
import { describe, expect, it } from 'vitest';
import { loadExporterConfig } from './config.js';

describe('loadExporterConfig', () => {
  it('has sane defaults and a frozen result', () => {
    const c = loadExporterConfig({});
    expect(c).toMatchObject({
      listen: { host: '127.0.0.1', port: 9110 },
      token: undefined,
      paths: { proc: '/proc', sys: '/sys', rootfs: '/' },
      collectorTimeoutSeconds: 5,
      disabledCollectors: [],
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.paths)).toBe(true);
  });

  it('puts host paths under VIGIL_HOST_ROOT and lets each be overridden', () => {
    expect(loadExporterConfig({ VIGIL_HOST_ROOT: '/host' }).paths).toEqual({ proc: '/host/proc', sys: '/host/sys', rootfs: '/host' });
    expect(loadExporterConfig({ VIGIL_HOST_ROOT: '/host', VIGIL_PROC: '/p' }).paths.proc).toBe('/p');
  });

  it.each([
    [':9110', { host: '0.0.0.0', port: 9110 }],
    ['[::1]:9', { host: '::1', port: 9 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
  ])('reads listen address %s', (v, expected) => {
    expect(loadExporterConfig({ VIGIL_EXPORTER_LISTEN: v, VIGIL_EXPORTER_TOKEN: 'a-token-of-16-chars-or-more' }).listen).toEqual(expected);
  });

  it.each([':9110', '0.0.0.0:9110', '10.0.0.5:9110', '[::]:9110'])(
    'refuses to listen on %s with no token, saying how to make one or opt out',
    (listen) => {
      expect(() => loadExporterConfig({ VIGIL_EXPORTER_LISTEN: listen })).toThrow(
        /VIGIL_EXPORTER_TOKEN: unset, while VIGIL_EXPORTER_LISTEN listens beyond loopback.*openssl rand -hex 32.*VIGIL_EXPORTER_INSECURE=1/s,
      );
      expect(loadExporterConfig({ VIGIL_EXPORTER_LISTEN: listen, VIGIL_EXPORTER_INSECURE: '1' }).token).toBeUndefined();
    },
  );

  it.each(['127.0.0.1:9110', '127.0.0.5:1', '[::1]:9110', 'localhost:9110'])('serves %s (loopback) without a token', (listen) => {
    expect(loadExporterConfig({ VIGIL_EXPORTER_LISTEN: listen }).token).toBeUndefined();
  });

  it.each([
    ['VIGIL_EXPORTER_LISTEN', '9110', /VIGIL_EXPORTER_LISTEN: expected host:port/],
    ['VIGIL_EXPORTER_LISTEN', 'localhost:99999', /VIGIL_EXPORTER_LISTEN/],
    ['VIGIL_EXPORTER_TOKEN', 'short', /VIGIL_EXPORTER_TOKEN: expected at least 16 characters.*\(got \(hidden\)\)/],
    ['VIGIL_COLLECTOR_TIMEOUT', 'soon', /VIGIL_COLLECTOR_TIMEOUT: expected a duration/],
    ['VIGIL_COLLECTOR_TIMEOUT', '10m', /VIGIL_COLLECTOR_TIMEOUT.*got "10m"/],
    ['VIGIL_DISABLED_COLLECTORS', 'cpu,gpu', /unknown collector gpu; known: arp, conntrack, containers, cpu, /],
    ['VIGIL_LOG_LEVEL', 'loud', /VIGIL_LOG_LEVEL/],
    ['VIGIL_LOG_PRETTY', 'maybe', /VIGIL_LOG_PRETTY: expected 1 or 0/],
  ])('stops on a bad %s=%s naming it', (name, value, message) => {
    expect(() => loadExporterConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadExporterConfig({ [name]: value })).toThrow(message);
  });

  it('never shows the token in the error', () => {
    try {
      loadExporterConfig({ VIGIL_EXPORTER_TOKEN: 'tiny-secret' });
      expect.unreachable();
    } catch (e) {
      expect(String(e)).not.toContain('tiny-secret');
    }
  });

  it('reads the token from VIGIL_EXPORTER_TOKEN_FILE (install.sh and compose secrets), and checks it as if set directly', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-token-'));
    try {
      writeFileSync(path.join(dir, 'token'), 'token-from-a-file-0123456789\n');
      writeFileSync(path.join(dir, 'short'), 'tiny-secret\n');
      expect(loadExporterConfig({ VIGIL_EXPORTER_TOKEN_FILE: path.join(dir, 'token'), VIGIL_EXPORTER_LISTEN: ':9110' }).token).toBe(
        'token-from-a-file-0123456789',
      );
      expect(() => loadExporterConfig({ VIGIL_EXPORTER_TOKEN_FILE: path.join(dir, 'short') })).toThrow(
        /VIGIL_EXPORTER_TOKEN: expected at least 16/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseDuration', () => {
  it.each([
    ['15', 15],
    ['15s', 15],
    ['500ms', 0.5],
    ['2m', 120],
    ['1h', 3600],
    ['1.5s', 1.5],
    ['', null],
    ['-1', null],
    ['5 years', null],
  ])('%j → %j', (s, v) => {
    expect(parseDuration(s)).toBe(v);
  });
});
