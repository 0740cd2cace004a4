import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addTarget, createDb, type EmbeddedPostgres, migrateToLatest, startEmbeddedPostgres } from '@vigil/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The `vigil` command as a user runs it: the built bin, in its own process.
const BIN = path.resolve(import.meta.dirname, '../bin/vigil.js');
const vigil = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8' });

describe('vigil, run as a command', () => {
  it('prints its help, naming the variables, with commands that work as printed', () => {
    const r = vigil(['--help']);
    expect(r.status).toBe(0);
    // Its own variables; each program's are in that program's --help, described once.
    for (const v of ['DATABASE_URL', 'VIGIL_LOCAL_INTERVAL', 'VIGIL_EXPORTER_LISTEN', 'VIGIL_CONSOLE_LISTEN'])
      expect(r.stdout).toContain(v);
    for (const p of ['exporter', 'scraper', 'console']) expect(r.stdout).toContain(`npx vigil ${p} --help`);
    expect(r.stdout).toMatch(/npx vigil targets add NAME URL/);
    expect(r.stdout).not.toMatch(/npm run vigil/);
  });

  it.each([
    [['frobnicate'], /^vigil: unknown command "frobnicate"; see npx vigil --help$/m],
    [['targets'], /^vigil: usage: npx vigil targets list/m],
    [['targets', 'list', '--csv'], /Unknown option '--csv'.*see npx vigil --help/],
    [['targets', 'add', 'a', 'http://x/metrics', '--interval', '-5s'], /--interval.*see npx vigil --help/],
    [['targets', 'add', 'a', 'http://x/metrics', '--interval=100000h'], /--interval "100000h" must be whole seconds from 1 s to 24 h/],
    [['start', 'now'], /vigil start takes no arguments/],
  ])('exits 2 on a usage mistake: %j', (args, message) => {
    const r = vigil(args, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('runs a program by its package: vigil exporter --help is the exporter’s own', () => {
    const r = vigil(['exporter', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^vigil-exporter — host metrics/);
  });

  it('passes a program’s configuration error on, with its exit code', () => {
    const r = vigil(['scraper', '--check-config'], { VIGIL_SCRAPE_CONCURRENCY: '0' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/VIGIL_SCRAPE_CONCURRENCY: expected a whole number from 1/);
  });

  it('fails with exit 1 naming the database when it cannot be reached', () => {
    const r = vigil(['targets', 'list'], { DATABASE_URL: 'postgres://vigil:hunter2@127.0.0.1:1/vigil' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^vigil: cannot reach the database at postgres:\/\/vigil:\*\*\*@127\.0\.0\.1:1\/vigil \(DATABASE_URL\): connection refused/,
    );
    expect(r.stderr).not.toContain('hunter2');
  });
});

describe('vigil targets list | head', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-epipe-'));
  let embedded: EmbeddedPostgres;
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres(path.join(dir, 'pgdata'));
    const db = await createDb(embedded.url, { max: 1 });
    await migrateToLatest(db);
    for (let i = 0; i < 3000; i++) await addTarget(db, { name: `host-${i}`, url: `http://host-${i}.lan:9110/metrics` });
    await db.destroy();
  }, 120_000);
  afterAll(async () => {
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops quietly, exit 0, when the reader goes away', async () => {
    const child = spawn(BIN, ['targets', 'list'], {
      env: { ...process.env, DATABASE_URL: embedded.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Like `head -1`: read the first chunk, then close the pipe.
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
