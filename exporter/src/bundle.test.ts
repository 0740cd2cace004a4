import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The exporter as hosts run it: the one-file bundle from build.mjs, started
// with the launcher's V8 flags, its lazily loaded packages (yaml, pino-pretty)
// found from where the bundle lies.
const ROOT = path.resolve(import.meta.dirname, '..');
const FLAGS = readFileSync(path.join(ROOT, 'bin/vigil-exporter.js'), 'utf8').split('\n')[0]!.split(/\s+/).filter((w) => w.startsWith('--'));

describe('the built exporter bundle', () => {
  const dir = mkdtempSync(path.join(ROOT, 'dist', '.test-'));
  let child: ChildProcess;
  let url = '';
  let output = '';

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'build.mjs'), '--outfile', path.join(dir, 'vigil-exporter.mjs')], { stdio: 'pipe' });
    writeFileSync(path.join(dir, 'services.yaml'), 'services:\n  - name: closed\n    tcp: 127.0.0.1:1\n    timeout: 500ms\n');
    const entry = `const { main } = await import(${JSON.stringify(path.join(dir, 'vigil-exporter.mjs'))}); await main([]);`;
    child = spawn(process.execPath, [...FLAGS, '--input-type=module', '-e', entry], {
      env: { ...process.env, VIGIL_EXPORTER_LISTEN: '127.0.0.1:0', VIGIL_SERVICES_FILE: path.join(dir, 'services.yaml'), VIGIL_LOG_PRETTY: '1', DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
    child.stdout!.on('data', (d: Buffer) => (output += d));
    child.stderr!.on('data', (d: Buffer) => (output += d));
    const deadline = Date.now() + 10_000;
    while (!/listening on (http:\/\/\S+)\/metrics/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the bundle did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = /listening on (http:\/\/\S+)\/metrics/.exec(output)![1]!.replace(/\x1b\[[0-9;]*m/g, '');
  }, 30_000);

  afterAll(() => {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves host, probe and process series in both formats, with readable logs', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^node_load1 \d/m);
    expect(text).toMatch(/^probe_success\{service="closed"\} 0$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    const om = await (await fetch(`${url}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).text();
    expect(om.endsWith('# EOF\n')).toBe(true);
    expect(output).toMatch(/INFO.*exporter listening/); // pino-pretty's layout, not a JSON line
  });

  it('keeps its heap trimmed between scrapes (gc exposed by the launcher flags)', async () => {
    for (let i = 0; i < 30; i++) await (await fetch(`${url}/metrics`)).text();
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/^vigil_exporter_heap_trims_total (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
