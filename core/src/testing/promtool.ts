import { spawnSync } from 'node:child_process';
import { hasCommand } from './tools.js';

/** Whether Debian's promtool is on this machine (CI installs the `prometheus` package). */
export const hasPromtool = hasCommand('promtool');

/**
 * Runs `promtool check metrics` on an exposition and returns what it reported,
 * less its notes on node_exporter's own names (`NODE_EXPORTER_OWN`: e.g.
 * `node_memory_MemTotal_bytes`), which are part of the compatible names.
 */
export function promtoolProblems(exposition: string): string[] {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !NODE_EXPORTER_OWN.some((re) => re.test(l.trim())));
}

/**
 * What promtool's lint says of node_exporter's own names, which Vigil keeps
 * so that dashboards and rules work unchanged: its meminfo and netstat fields
 * in the kernel's camelCase, and its entropy collector's `_bits`.
 */
const NODE_EXPORTER_OWN: readonly RegExp[] = [
  /^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$/,
  /^node_netstat_\w+ metric names should be written in 'snake_case' not 'camelCase'$/,
  /^node_entropy_(available|pool_size)_bits use base unit "bytes" instead of "bits"$/,
];

/** Why a promtool test cannot run here; in CI its absence is a failure, not a skip. */
export function requirePromtool(): void {
  if (!hasPromtool && process.env.CI) throw new Error("promtool is missing: .ci/run must install Debian's prometheus package");
}
