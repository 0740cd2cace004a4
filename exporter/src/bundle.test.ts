import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureBuilt } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../bin/node-flags.js';

// The exporter as hosts run it: the launcher, running the one-file bundle with
// its V8 flags, its lazily loaded packages (yaml, pino-pretty) found from where
// the bundle lies.
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/vigil-exporter.js');

/** Starts `node <flags> bin/vigil-exporter.js`; resolves with its URL once it says where it listens. */
async function launch(
  nodeFlags: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [...nodeFlags, BIN], {
    env: { ...process.env, VIGIL_EXPORTER_LISTEN: '127.0.0.1:0', VIGIL_LOG_PRETTY: '1', ...env },
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d;
      const m = /listening on (http:\/\/\S+)\/metrics/.exec(output.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the exporter exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));

describe('the built exporter, started as `node bin/vigil-exporter.js` with no flags', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bundle-'));
  let running: Awaited<ReturnType<typeof launch>>;

  beforeAll(async () => {
    ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
    writeFileSync(path.join(dir, 'services.yaml'), 'services:\n  - name: closed\n    tcp: 127.0.0.1:1\n    timeout: 500ms\n');
    writeFileSync(
      path.join(dir, 'blackbox.yml'),
      'modules:\n  health:\n    prober: http\n    http:\n      fail_if_body_not_matches_regexp: [\'"status": ?"ok"\']\n',
    );
    running = await launch([], {
      VIGIL_SERVICES_FILE: path.join(dir, 'services.yaml'),
      VIGIL_PROBE_MODULES_FILE: path.join(dir, 'blackbox.yml'),
      VIGIL_PROBE_ALLOW: '127.0.0.1',
      DOCKER_HOST: 'unix:///nonexistent.sock',
    });
  }, 60_000);

  afterAll(async () => {
    running?.child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves host, probe and process series in both formats, with readable logs', async () => {
    const text = await (await fetch(`${running.url}/metrics`)).text();
    expect(text).toMatch(/^node_load1 \d/m);
    expect(text).toMatch(/^probe_success\{service="closed"\} 0$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    const om = await (await fetch(`${running.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).text();
    expect(om.endsWith('# EOF\n')).toBe(true);
    expect(running.output()).toMatch(/INFO.*exporter listening/); // pino-pretty's layout, not a JSON line
  });

  it('checks probe bodies with regular expressions (re2js, loaded from node_modules)', async () => {
    const probe = await (await fetch(`${running.url}/probe?module=health&target=${running.url}/health`)).text();
    expect(probe).toMatch(/^probe_failed_due_to_regex 0$/m);
    expect(probe).toMatch(/^probe_success 1$/m);
  });

  it('runs with the launcher flags all the same: gc is exposed, so the heap is trimmed between scrapes', async () => {
    for (let i = 0; i < 30; i++) await (await fetch(`${running.url}/metrics`)).text();
    const text = await (await fetch(`${running.url}/metrics`)).text();
    expect(Number(/^vigil_exporter_heap_trims_total (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('exits 0 when told to stop twice (a supervisor and a terminal both sending SIGTERM)', async () => {
    const { child } = await launch([], { DOCKER_HOST: 'unix:///nonexistent.sock' });
    child.kill('SIGTERM');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});

describe('the launcher', () => {
  it('names the same flags in its shebang as it applies otherwise', () => {
    const shebang = readFileSync(BIN, 'utf8').split('\n')[0]!;
    expect(shebang.split(/\s+/).filter((w) => w.startsWith('--'))).toEqual(NODE_FLAGS);
  });
});
