// Self-contained program directories: what an image copies and what a host
// installs, with no checkout and no `npm install` of the monorepo. Each holds
// the program's built bundle (from `npm run build`), its bin, and a
// node_modules with only the packages that bundle still loads at run time
// (native modules and the few kept out of the bundle), and what they depend on.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

/** The programs a release is made of. */
export const PROGRAMS = ['exporter', 'scraper', 'console'] as const;
export type Program = (typeof PROGRAMS)[number];

/** The Node.js versions each program's release runs on (its package.json's `engines.node`). */
export const NODE_ENGINES: Record<Program, string> = {
  // Debian 12's and Raspberry Pi OS's nodejs is 18.20: the exporter runs there (src/compat.ts).
  exporter: '>=18.20',
  scraper: '>=20.19',
  console: '>=20.19',
};

interface ProgramLayout {
  /** Paths under the workspace copied as they are (files or directories). */
  copy: string[];
  /** Built files whose imports of packages are traced. */
  entries: string[];
  /** The bin, relative to the release directory. */
  bin: string;
}

const LAYOUT: Record<Program, ProgramLayout> = {
  exporter: {
    copy: ['bin/vigil-exporter.js', 'bin/node-flags.js', 'dist'],
    entries: ['dist/vigil-exporter.mjs'],
    bin: 'bin/vigil-exporter.js',
  },
  scraper: {
    copy: ['bin/vigil-scraper.js', 'dist'],
    entries: ['dist/vigil-scraper.mjs', 'dist/scrape-worker.mjs'],
    bin: 'bin/vigil-scraper.js',
  },
  console: {
    copy: ['bin/vigil-console.js', 'dist', 'build'],
    entries: ['dist/server.mjs', 'build/handler.js'],
    bin: 'bin/vigil-console.js',
  },
};

/**
 * Which parts of a package are shipped, when not all of it: the native modules
 * bring their sources and build trees (node-pty: 63 MB, of which the module is
 * 80 KB). `dependencies` replaces the package's own list where it names only
 * what its build needs (node-addon-api's headers).
 */
const PACKAGE_PARTS: Record<string, { keep: string[]; dependencies?: string[] }> = {
  'node-pty': { keep: ['package.json', 'LICENSE', 'lib', 'build/Release/pty.node'], dependencies: [] },
  // koffi's JavaScript; its binary comes from its per-platform package (@koromix/koffi-linux-x64...).
  koffi: {
    keep: [
      'package.json',
      'LICENSE.txt',
      'index.js',
      'index.cjs',
      'indirect.js',
      'indirect.cjs',
      'src/koffi/index.js',
      'src/koffi/index.cjs',
      'src/koffi/indirect.js',
      'src/koffi/indirect.cjs',
      'src/koffi/src/static.js',
      'src/koffi/src/static.cjs',
      'src/koffi/src/trampolines.cjs',
    ],
  },
};

/** Names of files and directories never shipped from a package: tests, docs, type declarations, source maps. */
function shipped(name: string, isDirectory: boolean): boolean {
  if (isDirectory)
    return !['test', 'tests', '__tests__', 'docs', 'doc', 'example', 'examples', '.github', 'benchmark', 'bench'].includes(name);
  if (/\.d\.[cm]?ts$/.test(name) || name.endsWith('.map') || name.endsWith('.ts')) return false;
  if (name.endsWith('.test.js')) return false;
  const upper = name.toUpperCase();
  return !(upper.endsWith('.MD') && !upper.startsWith('LICENSE') && !upper.startsWith('LICENCE') && !upper.startsWith('NOTICE'));
}

/** Thrown when a release cannot be made; says what is missing and how to get it. */
export class ReleaseError extends Error {
  override name = 'ReleaseError';
}

/** The package a bare import names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; null for Node's own modules. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('node:') || specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('#')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? null : name;
}

/**
 * The packages that built files import and did not bundle: esbuild follows each
 * entry (and every relative import, static or dynamic) and reports the imports
 * it left outside. Sorted names.
 * @throws ReleaseError when an entry is missing (not built)
 */
export async function externalPackages(files: string[]): Promise<string[]> {
  for (const f of files) if (!existsSync(f)) throw new ReleaseError(`${f} is missing: build it first with \`npm run build\``);
  const result = await build({
    entryPoints: files,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: '/nonexistent',
    logLevel: 'silent',
  });
  const names = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const i of output.imports) {
      if (!i.external) continue;
      const name = packageOf(i.path);
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * The packages a workspace's build keeps out of its bundle (`--external NAME` in
 * its package.json's build script): loaded at run time, some through
 * createRequire() where no import shows it (koffi, yaml, re2js in the exporter).
 */
export function declaredExternals(workspace: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(workspace, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (pkg.scripts?.build ?? '').split(/\s+/);
  const names = new Set<string>();
  words.forEach((w, i) => {
    const name = w === '--external' ? packageOf(words[i + 1] ?? '') : null;
    if (name) names.add(name);
  });
  return [...names].sort();
}

/** A package as installed: where, its version and license, and what it needs at run time. */
export interface InstalledPackage {
  name: string;
  dir: string;
  version: string;
  license: string;
  dependencies: string[];
}

function readPackage(nodeModules: string, name: string): InstalledPackage | null {
  const dir = path.join(nodeModules, name);
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return null;
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
    version: string;
    license?: string;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  const required = Object.keys(pkg.dependencies ?? {});
  // Optional dependencies are per platform (koffi's prebuilt binaries): the ones installed here.
  const optional = Object.keys(pkg.optionalDependencies ?? {}).filter((n) => existsSync(path.join(nodeModules, n, 'package.json')));
  // Peer dependencies that are not optional must be there too.
  const peers = Object.keys(pkg.peerDependencies ?? {}).filter((n) => !pkg.peerDependenciesMeta?.[n]?.optional);
  const dependencies = PACKAGE_PARTS[name]?.dependencies ?? [...new Set([...required, ...optional, ...peers])];
  return { name, dir, version: pkg.version, license: pkg.license ?? 'unknown', dependencies };
}

/**
 * The packages named and everything they depend on at run time, as installed in
 * `nodeModules` (npm's hoisted layout). Sorted by name.
 * @throws ReleaseError naming a package (and who needs it) that is not installed
 */
export function packageClosure(nodeModules: string, names: string[], optional: ReadonlySet<string> = new Set()): InstalledPackage[] {
  const found = new Map<string, InstalledPackage>();
  const queue = names.map((name) => ({ name, by: 'the program' }));
  while (queue.length > 0) {
    const { name, by } = queue.shift()!;
    if (found.has(name)) continue;
    const pkg = readPackage(nodeModules, name);
    if (!pkg) {
      if (optional.has(name)) continue;
      throw new ReleaseError(`${name} (needed by ${by}) is not installed in ${nodeModules}: run \`npm ci\` first`);
    }
    found.set(name, pkg);
    for (const d of pkg.dependencies) queue.push({ name: d, by: name });
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function copyFiltered(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    if (!shipped(entry.name, entry.isDirectory())) continue;
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) copyFiltered(source, path.join(to, entry.name));
    else cpSync(source, path.join(to, entry.name));
  }
}

function copyPackage(pkg: InstalledPackage, nodeModules: string): void {
  const to = path.join(nodeModules, pkg.name);
  const parts = PACKAGE_PARTS[pkg.name];
  if (!parts) {
    copyFiltered(pkg.dir, to);
    return;
  }
  for (const part of parts.keep) {
    const source = path.join(pkg.dir, part);
    if (!existsSync(source)) {
      if (part.endsWith('.node')) {
        throw new ReleaseError(
          `${source} is missing: ${pkg.name}'s native module was not built (npm ci runs its install script; it needs python3, make and g++)`,
        );
      }
      continue;
    }
    const target = path.join(to, part);
    if (statSync(source).isDirectory()) copyFiltered(source, target);
    else {
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(source, target);
    }
  }
}

/** What a release directory holds, written beside it as release.json. */
export interface ReleaseManifest {
  program: Program;
  version: string;
  node: string;
  platform: string;
  arch: string;
  packages: { name: string; version: string; license: string }[];
}

/**
 * Packages that the programs import but may run without, and are left out;
 * their absence is said at run time: pino-pretty (only for VIGIL_LOG_PRETTY),
 * pg-native (pg's optional driver, never used), and PGlite (28 MB; the embedded
 * database of `vigil start`, loaded only for a pglite:// DATABASE_URL).
 */
const OPTIONAL_AT_RUN_TIME = new Set(['pino-pretty', 'pg-native', '@electric-sql/pglite']);

/**
 * Makes `out`, a self-contained directory of one program: its bin, its bundle,
 * package.json, release.json and a node_modules of what it loads. Replaces `out`.
 * @param repo the repository's root (built with `npm run build`)
 * @returns its manifest
 * @throws ReleaseError when the program is not built or a package is missing
 */
export async function makeRelease(repo: string, program: Program, out: string): Promise<ReleaseManifest> {
  const workspace = path.join(repo, program);
  const layout = LAYOUT[program];
  const traced = await externalPackages(layout.entries.map((e) => path.join(workspace, e)));
  const external = [...new Set([...traced, ...declaredExternals(workspace)])];
  const wanted = external.filter((n) => !OPTIONAL_AT_RUN_TIME.has(n));
  const nodeModules = path.join(repo, 'node_modules');
  const packages = packageClosure(nodeModules, wanted);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const c of layout.copy) {
    const source = path.join(workspace, c);
    if (!existsSync(source)) throw new ReleaseError(`${source} is missing: build it first with \`npm run build\``);
    cpSync(source, path.join(out, c), { recursive: true });
  }
  for (const pkg of packages) copyPackage(pkg, path.join(out, 'node_modules'));
  const version = (JSON.parse(readFileSync(path.join(workspace, 'package.json'), 'utf8')) as { version: string }).version;
  const manifest: ReleaseManifest = {
    program,
    version,
    node: NODE_ENGINES[program],
    platform: process.platform,
    arch: process.arch,
    packages: packages.map(({ name, version, license }) => ({ name, version, license })),
  };
  writeFileSync(
    path.join(out, 'package.json'),
    `${JSON.stringify(
      {
        name: `vigil-${program}`,
        version,
        private: true,
        type: 'module',
        engines: { node: manifest.node },
        bin: { [`vigil-${program}`]: layout.bin },
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(path.join(out, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The exporter's tarball name for this machine: `vigil-exporter-0.1.0-linux-x64.tar.gz`. */
export function tarballName(version: string, platform: string = process.platform, arch: string = process.arch): string {
  return `vigil-exporter-${version}-${platform}-${arch}.tar.gz`;
}

/**
 * The exporter's release tarball: `vigil-exporter/` (the program), with
 * install.sh and the systemd unit inside it, packed with tar. Files are owned
 * by root in the archive and dated by the repository's last commit when there
 * is one, so the same tree packs the same way.
 * @returns the tarball's path
 */
export async function makeExporterTarball(repo: string, outDir: string): Promise<{ tarball: string; manifest: ReleaseManifest }> {
  const stage = path.join(outDir, 'vigil-exporter');
  const manifest = await makeRelease(repo, 'exporter', stage);
  cpSync(path.join(repo, 'deploy/install.sh'), path.join(stage, 'install.sh'));
  cpSync(path.join(repo, 'deploy/systemd/vigil-exporter.service'), path.join(stage, 'vigil-exporter.service'));
  cpSync(path.join(repo, 'deploy/systemd/vigil-exporter.service.d/terminals.conf.example'), path.join(stage, 'terminals.conf.example'));
  const tarball = path.join(outDir, tarballName(manifest.version));
  let mtime = '@0';
  try {
    mtime = `@${execFileSync('git', ['-C', repo, 'log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}`;
  } catch {
    // Not a git checkout (an unpacked source archive): the epoch.
  }
  execFileSync('tar', [
    '--sort=name',
    `--mtime=${mtime}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-czf',
    tarball,
    '-C',
    outDir,
    'vigil-exporter',
  ]);
  return { tarball, manifest };
}

/** Total size in bytes of the files under a directory. */
export function directorySize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}
