import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { integer, listenAddress, seconds } from './config.js';
import { checkVariableDocs, readmeVariablesTable, type VariableDocs, variablesHelp, variablesTable } from './variables.js';

const schema = z.object({
  APP_LISTEN: listenAddress('127.0.0.1:9000'),
  APP_WORKERS: integer(4, { min: 1 }),
  APP_GRACE: seconds(20),
  APP_TOKEN: z.optional(z.string()),
  A_VERY_LONG_VARIABLE_NAME_INDEED: z.optional(z.string()),
});
const docs: VariableDocs<typeof schema> = {
  APP_LISTEN: { default: '127.0.0.1:9000', meaning: 'address to listen on' },
  APP_WORKERS: { default: '4', meaning: 'workers | at once' },
  APP_GRACE: {
    default: '20s',
    meaning: 'how long to wait on a signal before exiting, while the last requests are answered and the goodbye is said',
  },
  APP_TOKEN: { meaning: 'a secret' },
  A_VERY_LONG_VARIABLE_NAME_INDEED: { defaultText: 'the host name', meaning: 'a name' },
};

describe('variable descriptions', () => {
  it('agree with the schema when their stated defaults parse to its defaults', () => {
    expect(checkVariableDocs(schema, docs)).toEqual([]);
  });

  it('say which stated default disagrees, or does not parse', () => {
    expect(checkVariableDocs(schema, { ...docs, APP_WORKERS: { default: '5', meaning: 'x' } })).toEqual([
      'APP_WORKERS: the documented default "5" reads as 5, the schema\'s default is 4',
    ]);
    expect(checkVariableDocs(schema, { ...docs, APP_GRACE: { default: 'soon', meaning: 'x' } })[0]).toMatch(
      /^APP_GRACE: the documented default "soon" does not parse/,
    );
  });

  it('make a --help section, wrapped under each meaning, with the defaults', () => {
    const help = variablesHelp(docs);
    const lines = help.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    expect(lines[0]).toBe(`  APP_LISTEN${' '.repeat(20)}address to listen on (default 127.0.0.1:9000)`);
    expect(help).toContain('(default 20s)');
    expect(help).toMatch(/ {2}A_VERY_LONG_VARIABLE_NAME_INDEED\n {32}a name \(default the host name\)/);
    expect(help).toMatch(/ {2}APP_TOKEN {21}a secret\n/);
  });

  it('make a README table, and find it between its markers', () => {
    const table = variablesTable(docs);
    expect(table.split('\n')).toEqual([
      '| variable | default | meaning |',
      '| --- | --- | --- |',
      '| `APP_LISTEN` | `127.0.0.1:9000` | address to listen on |',
      '| `APP_WORKERS` | `4` | workers \\| at once |',
      '| `APP_GRACE` | `20s` | how long to wait on a signal before exiting, while the last requests are answered and the goodbye is said |',
      '| `APP_TOKEN` | unset | a secret |',
      '| `A_VERY_LONG_VARIABLE_NAME_INDEED` | the host name | a name |',
    ]);
    const readme = `# x\n\n<!-- variables:app -->\n${table}\n<!-- /variables:app -->\n`;
    expect(readmeVariablesTable(readme, 'app')).toBe(table);
    expect(readmeVariablesTable(readme, 'other')).toBeNull();
  });
});
