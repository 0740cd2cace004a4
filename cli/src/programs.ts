import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The programs `vigil` launches, each from its own package's `bin`. */
export const PROGRAMS = {
  exporter: { pkg: '@vigil/exporter', bin: 'vigil-exporter' },
  scraper: { pkg: '@vigil/scraper', bin: 'vigil-scraper' },
  console: { pkg: '@vigil/console', bin: 'vigil-console' },
} as const;

export type Program = keyof typeof PROGRAMS;

const require = createRequire(import.meta.url);

/**
 * The executable of a program, found through its package as npm installs it
 * (`bin` in its package.json): run directly, so its shebang's Node flags apply.
 * @throws Error when the package is not installed (run npm install)
 */
export function programBin(name: Program): string {
  const { pkg, bin } = PROGRAMS[name];
  let pkgFile: string;
  try {
    pkgFile = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(`${pkg} is not installed here: run npm install in the Vigil checkout`);
  }
  const manifest = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin?: Record<string, string> };
  const file = manifest.bin?.[bin];
  if (!file) throw new Error(`${pkg} has no ${bin} program`);
  return path.join(path.dirname(pkgFile), file);
}
