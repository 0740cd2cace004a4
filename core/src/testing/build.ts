import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The repository root, where the workspaces are. */
export const REPO = path.resolve(import.meta.dirname, '../../..');

function newest(dir: string): number {
  if (!statSync(dir).isDirectory()) return statSync(dir).mtimeMs;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds a program's workspace (`npm run build -w <workspace>`) when its output
 * is missing or older than its sources or those of the packages it bundles
 * (core, db): tests that run a program as a process run what production runs,
 * never a stale build. Call it from a vitest globalSetup, once per run.
 * @param output the built file, relative to the workspace (e.g. `dist/vigil-exporter.mjs`)
 * @param sources folders (and files) it is built from, relative to the repository
 */
export function ensureBuilt(workspace: string, output: string, sources: readonly string[]): void {
  let built = 0;
  try {
    built = statSync(path.join(REPO, workspace, output)).mtimeMs;
  } catch {
    // not built
  }
  if (built >= Math.max(...sources.map((s) => newest(path.join(REPO, s))))) return;
  execFileSync('npm', ['run', 'build', '--silent', '-w', workspace], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
}
