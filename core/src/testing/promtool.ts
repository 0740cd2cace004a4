import { spawnSync } from 'node:child_process';
import { hasCommand } from './tools.js';

/** Whether Debian's promtool is on this machine (CI installs the `prometheus` package). */
export const hasPromtool = hasCommand('promtool');

/**
 * Runs `promtool check metrics` on an exposition and returns what it reported,
 * less the camelCase notes it prints for node_exporter's own `node_memory_*`
 * names (e.g. `node_memory_MemTotal_bytes`), which are part of the compatible names.
 */
export function promtoolProblems(exposition: string): string[] {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !/^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$/.test(l.trim()));
}

/** Why a promtool test cannot run here; in CI its absence is a failure, not a skip. */
export function requirePromtool(): void {
  if (!hasPromtool && process.env.CI) throw new Error("promtool is missing: .ci/run must install Debian's prometheus package");
}
