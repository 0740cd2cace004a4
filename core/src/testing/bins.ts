import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The executable a package declares in its `bin` (as npm links it), resolved
 * from the caller's module (`import.meta.url`): how tests and benchmarks run
 * another program as a process instead of importing it.
 * @throws Error when the package is not installed or declares no such bin
 */
export function packageBin(pkg: string, bin: string, from: string): string {
  const pkgFile = createRequire(from).resolve(`${pkg}/package.json`);
  const manifest = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin?: Record<string, string> };
  const file = manifest.bin?.[bin];
  if (!file) throw new Error(`${pkg} declares no ${bin} executable`);
  return path.join(path.dirname(pkgFile), file);
}
