import { variableDocProblems } from '@vigil/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXPORTER_SCHEMA, EXPORTER_VARIABLE_DOCS } from './config.js';
import { main } from './main.js';

describe('vigil-exporter main', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('prints --help naming every variable; it, the README and the schema agree (names, defaults, meanings)', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockReturnValue(true);
    await main(['--help']);
    const text = out.mock.calls.map((c) => String(c[0])).join('');
    expect(Object.keys(EXPORTER_VARIABLE_DOCS).length).toBeGreaterThan(15);
    expect(variableDocProblems('exporter', EXPORTER_SCHEMA, EXPORTER_VARIABLE_DOCS, text)).toEqual([]);
  });

  it('exits 2 on an unknown argument', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    await main(['--port=1']);
    expect(process.exitCode).toBe(2);
    expect(String(err.mock.calls[0]?.[0])).toMatch(/unknown argument --port=1/);
  });

  it('exits 2 on a bad environment value, naming the variable', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    vi.stubEnv('VIGIL_EXPORTER_LISTEN', 'nowhere');
    try {
      await main([]);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(process.exitCode).toBe(2);
    expect(String(err.mock.calls[0]?.[0])).toMatch(/VIGIL_EXPORTER_LISTEN: expected host:port/);
  });
});
