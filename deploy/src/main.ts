// `npm run release`: the self-contained program directories and the exporter's tarball.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { directorySize, makeExporterTarball, makeRelease, PROGRAMS, type Program, ReleaseError } from './release.js';

const HELP = `npm run release -- [--out DIR] [PROGRAM ...]

Makes self-contained directories of Vigil's programs from the built tree (run
\`npm run build\` first; npm install does it): each holds the program's bundle,
its bin and a node_modules of only what the bundle loads at run time. For the
exporter it also packs the tarball that deploy/install.sh installs on a host.

  PROGRAM      exporter, scraper, console (default: all three)
  --out DIR    where to write them (default: release/)

Writes DIR/vigil-<program>/ for each program and DIR/vigil-exporter-<version>-<os>-<arch>.tar.gz.
`;

const MiB = 1024 * 1024;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) return void process.stdout.write(HELP);
  const unknown = positionals.filter((p) => !(PROGRAMS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new ReleaseError(`unknown program ${unknown.join(', ')}: choose from ${PROGRAMS.join(', ')}`);
  const programs = (positionals.length > 0 ? positionals : [...PROGRAMS]) as Program[];
  const repo = path.resolve(import.meta.dirname, '../..');
  // npm runs this in deploy/; paths given and shown are the caller's.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const out = path.resolve(cwd, values.out ?? path.join(repo, 'release'));
  for (const program of programs) {
    const started = performance.now();
    if (program === 'exporter') {
      const { tarball, manifest } = await makeExporterTarball(repo, out);
      const size = directorySize(path.join(out, 'vigil-exporter'));
      process.stdout.write(
        `exporter: ${path.relative(cwd, tarball)} (${(size / MiB).toFixed(1)} MiB unpacked, ${manifest.packages.length} packages) in ${Math.round(performance.now() - started)} ms\n`,
      );
    } else {
      const dir = path.join(out, `vigil-${program}`);
      const manifest = await makeRelease(repo, program, dir);
      process.stdout.write(
        `${program}: ${path.relative(cwd, dir)}/ (${(directorySize(dir) / MiB).toFixed(1)} MiB, ${manifest.packages.length} packages) in ${Math.round(performance.now() - started)} ms\n`,
      );
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`release: ${err instanceof ReleaseError || err instanceof TypeError ? err.message : (err as Error).stack}\n`);
  process.exit(1);
});
