// Writes each program's table of environment variables into README.md, between
// its `<!-- variables:NAME -->` and `<!-- /variables:NAME -->` markers, from the
// descriptions beside its configuration schema (the tests fail until it is run
// after a variable changes).
//   node --import tsx scripts/readme-variables.ts
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type VariableDoc, variablesTable } from '@vigil/core/variables';

const root = path.resolve(import.meta.dirname, '..');
const programs: Record<string, () => Promise<Record<string, VariableDoc>>> = {
  exporter: async () => (await import('../exporter/src/config.js')).EXPORTER_VARIABLE_DOCS,
  scraper: async () => (await import('../scraper/src/config.js')).SCRAPER_VARIABLE_DOCS,
  console: async () => (await import('../console/src/lib/server/config.js')).CONSOLE_VARIABLE_DOCS,
};

let readme = readFileSync(path.join(root, 'README.md'), 'utf8');
for (const [program, load] of Object.entries(programs)) {
  const open = `<!-- variables:${program} -->`;
  const close = `<!-- /variables:${program} -->`;
  const a = readme.indexOf(open);
  const b = readme.indexOf(close);
  if (a < 0 || b < a) throw new Error(`README.md has no ${open} … ${close} markers`);
  readme = `${readme.slice(0, a + open.length)}\n${variablesTable(await load())}\n${readme.slice(b)}`;
  process.stdout.write(`README.md: the ${program} table written\n`);
}
writeFileSync(path.join(root, 'README.md'), readme);
