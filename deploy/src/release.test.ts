import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closedPort, until } from '@vigil/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  declaredExternals,
  directorySize,
  externalPackages,
  makeExporterTarball,
  makeRelease,
  packageClosure,
  packageOf,
  ReleaseError,
  tarballName,
} from './release.js';

// The release is made from this checkout as `npm test` left it: built (npm test builds first).
const REPO = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'vigil-release-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('packageOf', () => {
  it('names the package of a bare import, and nothing for Node.js itself or a path', () => {
    expect(packageOf('koffi')).toBe('koffi');
    expect(packageOf('zod/mini')).toBe('zod');
    expect(packageOf('@node-rs/argon2')).toBe('@node-rs/argon2');
    expect(packageOf('@electric-sql/pglite/vector')).toBe('@electric-sql/pglite');
    for (const s of ['node:fs', 'fs', 'path', './x.js', '../build/handler.js', '/abs.js', '#imports']) expect(packageOf(s)).toBeNull();
  });
});

describe('externalPackages and declaredExternals', () => {
  it('finds the packages a file imports, statically or not, and not those it bundles or Node.js own', async () => {
    const dir = path.join(work, 'trace');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'a.mjs'),
      "import 'zod/mini'; import fs from 'node:fs'; import './b.mjs'; export const f = () => import('kysely');",
    );
    writeFileSync(path.join(dir, 'b.mjs'), "import { x } from '@scope/pkg/sub'; import os from 'os'; export { x, os };");
    expect(await externalPackages([path.join(dir, 'a.mjs')])).toEqual(['@scope/pkg', 'kysely', 'zod']);
    await expect(externalPackages([path.join(dir, 'missing.mjs')])).rejects.toThrow(
      /missing.mjs is missing: build it first with `npm run build`/,
    );
  });

  it('reads what a workspace keeps out of its bundle from its build script', () => {
    expect(declaredExternals(path.join(REPO, 'exporter'))).toEqual(['koffi', 'node-pty', 're2js', 'yaml']);
    expect(declaredExternals(path.join(REPO, 'console'))).toEqual([]); // ../build/handler.js is a file, not a package
  });
});

describe('packageClosure', () => {
  const nm = path.join(work, 'node_modules');
  const pkg = (name: string, body: object) => {
    mkdirSync(path.join(nm, name), { recursive: true });
    writeFileSync(path.join(nm, name, 'package.json'), JSON.stringify({ name, version: '1.0.0', license: 'MIT', ...body }));
  };
  pkg('top', {
    dependencies: { mid: '1' },
    optionalDependencies: { 'plat-here': '1', 'plat-elsewhere': '1' },
    peerDependencies: { peer: '1' },
  });
  pkg('mid', { dependencies: { leaf: '1', top: '1' } }); // a cycle back to top
  pkg('leaf', {});
  pkg('plat-here', {});
  pkg('peer', {});
  pkg('lonely', { dependencies: { ghost: '1' } });
  pkg('node-pty', { dependencies: { 'node-addon-api': '7' } }); // its one dependency is for building it

  it('follows dependencies, the installed optional ones and required peers, once each', () => {
    expect(packageClosure(nm, ['top']).map((p) => p.name)).toEqual(['leaf', 'mid', 'peer', 'plat-here', 'top']);
    expect(packageClosure(nm, ['node-pty']).map((p) => p.name)).toEqual(['node-pty']);
  });

  it('says which package is missing, who needs it and what to run', () => {
    expect(() => packageClosure(nm, ['lonely'])).toThrow(
      new ReleaseError(`ghost (needed by lonely) is not installed in ${nm}: run \`npm ci\` first`),
    );
    expect(packageClosure(nm, ['lonely', 'ghost'], new Set(['ghost'])).map((p) => p.name)).toEqual(['lonely']);
  });
});

describe('the exporter release', () => {
  const out = path.join(work, 'out');
  let child: ChildProcess | undefined;
  // Started with `node`, the launcher runs the exporter again with its V8 flags in a process group of its own:
  // a SIGTERM reaches it through the launcher (a SIGKILL would leave it running), and it stops at once (no grace).
  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });

  it('is a tarball of the program, install.sh, the unit, and only the packages it loads', async () => {
    const { tarball, manifest } = await makeExporterTarball(REPO, out);
    expect(path.basename(tarball)).toBe(tarballName(manifest.version));
    expect(manifest).toMatchObject({ program: 'exporter', node: '>=18.20', platform: process.platform, arch: process.arch });
    const names = manifest.packages.map((p) => p.name);
    for (const n of ['koffi', 'node-pty', 're2js', 'yaml']) expect(names).toContain(n);
    // Nothing bundled is shipped again, and nothing for building: no koa, no zod, no node-addon-api, no TypeScript.
    for (const n of ['koa', 'zod', 'prom-client', 'node-addon-api', 'typescript', 'esbuild']) expect(names).not.toContain(n);
    const listing = execFileSync('tar', ['-tzvf', tarball], { encoding: 'utf8' });
    for (const f of [
      'vigil-exporter/install.sh',
      'vigil-exporter/vigil-exporter.service',
      'vigil-exporter/dist/vigil-exporter.mjs',
      'vigil-exporter/bin/node-flags.js',
      'vigil-exporter/node_modules/node-pty/build/Release/pty.node',
    ]) {
      expect(listing).toContain(f);
    }
    expect(listing).not.toMatch(/node-pty\/(src|deps|third_party)\//);
    // Owned by root (0/0), whoever packed it.
    expect(
      listing
        .trim()
        .split('\n')
        .every((line) => line.split(/\s+/)[1] === '0/0'),
    ).toBe(true);
    // Packed twice from the same tree, the same bytes.
    const first = readFileSync(tarball);
    await makeExporterTarball(REPO, out);
    expect(readFileSync(tarball).equals(first)).toBe(true);
    expect(directorySize(path.join(out, 'vigil-exporter'))).toBeLessThan(15 * 1024 * 1024);
  });

  it('runs from anywhere, with no checkout beside it: /metrics with the token, 401 without', async () => {
    const moved = path.join(work, 'elsewhere');
    execFileSync('tar', [
      '-xzf',
      path.join(out, tarballName(JSON.parse(readFileSync(path.join(out, 'vigil-exporter/release.json'), 'utf8')).version)),
      '-C',
      work,
    ]);
    rmSync(moved, { recursive: true, force: true });
    execFileSync('mv', [path.join(work, 'vigil-exporter'), moved]);
    const port = await closedPort();
    const token = 'release-test-token-0123456789';
    child = spawn(process.execPath, [path.join(moved, 'bin/vigil-exporter.js')], {
      env: {
        PATH: process.env.PATH,
        VIGIL_EXPORTER_LISTEN: `127.0.0.1:${port}`,
        VIGIL_EXPORTER_TOKEN: token,
        VIGIL_EXPORTER_STOP_GRACE: '0',
        NODE_PATH: '',
      },
      cwd: tmpdir(),
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}/metrics`;
    await until(
      'the released exporter answering',
      30,
      async () => (await fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch(() => null))?.ok === true,
    );
    const body = await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(body).toMatch(/^node_memory_MemTotal_bytes \d/m);
    expect(body).toMatch(/^node_timex_sync_status \d/m); // koffi loaded from the release's node_modules
    expect((await fetch(url)).status).toBe(401);
  });
});

describe('makeRelease', () => {
  it('makes the scraper and the console self-contained too, each with its package.json and manifest', async () => {
    for (const program of ['scraper', 'console'] as const) {
      const dir = path.join(work, `vigil-${program}`);
      const manifest = await makeRelease(REPO, program, dir);
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      expect(pkg).toMatchObject({ name: `vigil-${program}`, type: 'module', engines: { node: '>=20.19' } });
      expect(existsSync(path.join(dir, pkg.bin[`vigil-${program}`]))).toBe(true);
      expect(JSON.parse(readFileSync(path.join(dir, 'release.json'), 'utf8'))).toEqual(manifest);
      const help = execFileSync(process.execPath, [path.join(dir, pkg.bin[`vigil-${program}`]), '--help'], {
        encoding: 'utf8',
        cwd: tmpdir(),
      });
      expect(help).toContain(`vigil-${program}`);
    }
    expect((await makeRelease(REPO, 'console', path.join(work, 'vigil-console'))).packages.map((p) => p.name)).toContain('@node-rs/argon2');
    // PGlite (the embedded database of `vigil start`) is left out; asked for, the scraper says what to use instead.
    const scraper = await makeRelease(REPO, 'scraper', path.join(work, 'vigil-scraper'));
    expect(scraper.packages.map((p) => p.name)).not.toContain('@electric-sql/pglite');
    expect(directorySize(path.join(work, 'vigil-scraper')) / 2 ** 20).toBeLessThan(15); // its two bundles and their maps; PGlite alone was 28 MiB
    const embedded = spawnSync(process.execPath, [path.join(work, 'vigil-scraper/bin/vigil-scraper.js')], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH, DATABASE_URL: 'pglite://memory', VIGIL_SCRAPER_LISTEN: '127.0.0.1:0' },
      encoding: 'utf8',
    });
    expect(embedded.status).toBe(1);
    expect(embedded.stderr).toContain(
      'this installation has no embedded database (PGlite, left out of the images): set DATABASE_URL=postgres://',
    );
  });

  it('refuses to make one from an unbuilt workspace, saying how to build it', async () => {
    const fake = path.join(work, 'fake-repo');
    mkdirSync(path.join(fake, 'scraper'), { recursive: true });
    writeFileSync(path.join(fake, 'scraper/package.json'), '{"version":"0.0.0","scripts":{}}');
    await expect(makeRelease(fake, 'scraper', path.join(work, 'never'))).rejects.toThrow(/is missing: build it first with `npm run build`/);
  });
});
