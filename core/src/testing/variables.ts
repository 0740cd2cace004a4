import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as z from 'zod/mini';
import { checkVariableDocs, readmeVariablesTable, type VariableDocs, variablesTable } from '../variables.js';

/** The repository's README. */
export const README = path.resolve(import.meta.dirname, '../../../README.md');

/**
 * Everything wrong with a program's variable descriptions: a variable its schema
 * reads and the docs leave out (or the reverse), a stated default the schema does
 * not give, a README table (between `<!-- variables:PROGRAM -->` markers) that is
 * not the one made from the docs, a variable its --help does not name.
 * @returns one line per problem; empty when all agree
 */
export function variableDocProblems<S extends z.ZodMiniObject>(program: string, schema: S, docs: VariableDocs<S>, help: string): string[] {
  const problems = checkVariableDocs(schema, docs);
  const read = Object.keys(schema.shape).sort();
  const described = Object.keys(docs).sort();
  if (read.join() !== described.join()) problems.push(`read: ${read.join(', ')}; described: ${described.join(', ')}`);
  for (const name of read) if (!help.includes(name)) problems.push(`--help does not name ${name}`);
  const readme = readFileSync(README, 'utf8');
  const table = readmeVariablesTable(readme, program);
  const expected = variablesTable(docs as Record<string, never>);
  if (table === null) problems.push(`README.md has no <!-- variables:${program} --> … <!-- /variables:${program} --> markers`);
  else if (table !== expected) {
    // As a snapshot is updated: on request, the README gets the table the docs make.
    if (process.env.VIGIL_UPDATE_README === '1') writeFileSync(README, readme.replace(table, expected));
    else
      problems.push(
        `README.md's ${program} table is not the one its docs make; run this test with VIGIL_UPDATE_README=1 to write it:\n${expected}`,
      );
  }
  return problems;
}
