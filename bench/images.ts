/**
 * The images' sizes: each target of the Dockerfile built on the test engine
 * over the base scripts/docker-base.sh makes (Debian 12 and this machine's
 * Node.js, where no registry is reachable), and what each adds to that base,
 * beside node_exporter's binary (its whole image is that binary on busybox).
 *
 *   node --import tsx bench/images.ts [--record]
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchDocker, REPO, recordSection } from './lib.js';

const { values } = parseArgs({ options: { record: { type: 'boolean' }, help: { type: 'boolean' } } });
if (values.help) {
  process.stdout.write('usage: node --import tsx bench/images.ts [--record]\n');
  process.exit(0);
}
const { dockerHost, docker } = benchDocker();
const dockerEnv = { ...process.env, DOCKER_HOST: dockerHost };
const buildArgs = execFileSync(path.join(REPO, 'scripts/docker-base.sh'), { env: dockerEnv, encoding: 'utf8' }).trim().split(/\s+/);
const nodeImage = /NODE_IMAGE=(\S+)/.exec(buildArgs.join(' '))![1]!;
const size = (image: string) => Number(docker('image', 'inspect', '--format', '{{.Size}}', image));
const MB = 1e6;

const rows: string[] = [];
const base = size(nodeImage);
for (const target of ['exporter', 'scraper', 'console']) {
  const tag = `vigil-bench-${target}:latest`;
  const started = performance.now();
  docker('build', '-q', '--network', 'host', ...buildArgs, '--target', target, '-t', tag, REPO);
  const s = size(tag);
  rows.push(
    `| vigil-${target} | ${(s / MB).toFixed(1)} | ${((s - base) / MB).toFixed(1)} | ${Math.round((performance.now() - started) / 1000)} |`,
  );
  docker('rmi', tag);
}
const nodeExporter = statSync('/usr/bin/prometheus-node-exporter').size;
const body = [
  `Command: \`node --import tsx bench/images.ts --record\`; ${new Date().toISOString().slice(0, 10)}, Docker ${docker('version', '--format', '{{.Server.Version}}')}. The base is \`${nodeImage}\` (${(base / MB).toFixed(1)} MB: Debian 12 minbase and Node.js ${process.version}, from scripts/docker-base.sh); with the official \`node:20-bookworm-slim\` the added sizes are the same, the totals those of that image plus them. Sizes as \`docker image inspect\` reports them (bytes, shown in MB of 10^6).`,
  '',
  '| image | size MB | added to its base MB | build s (cached layers reused) |',
  '|---|---:|---:|---:|',
  ...rows,
  '',
  `- node_exporter's image is its binary on busybox: the binary (Debian's 1.5) is ${(nodeExporter / MB).toFixed(1)} MB, and prom/node-exporter's images are 21–25 MB in all; Beszel's agent image is one stripped Go binary on \`scratch\` (its Dockerfile), so about its binary's size. The Vigil exporter adds its release directory (bundle, source map, node-pty, koffi, yaml, re2js) to a Node.js base; a host that has Node.js already gets the same directory from install.sh without any image.`,
  '- none carries PGlite (28 MB, the embedded database of `vigil start`): @vigil/db loads it on first use, and the images use PostgreSQL (DATABASE_URL=postgres://…).',
].join('\n');
process.stdout.write(`${body}\n`);
if (values.record) recordSection('Image sizes', body);
