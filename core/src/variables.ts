/**
 * Each program's environment variables described once, beside the zod schema
 * that reads them: a {@link VariableDocs} table typed from the schema's keys, so
 * a variable added to the schema and left undescribed (or described and not
 * read) does not compile. The program's `--help` and the README's tables are
 * made from it, and {@link checkVariableDocs} holds the defaults it states to
 * the schema's own.
 */
import type * as z from 'zod/mini';
import { parseEnv } from './config.js';

/** What one variable is for. */
export interface VariableDoc {
  /**
   * Its default as a person would write the variable (checked: written so, it
   * parses to what the schema defaults to); omitted when unset means off or none.
   */
  readonly default?: string;
  /** A default the schema computes (`the number of cores`): shown, not checked. */
  readonly defaultText?: string;
  /** What it does, in a line or two. */
  readonly meaning: string;
}

/** `VIGIL_LOG_LEVEL` and `VIGIL_LOG_PRETTY`, which every program reads (core's logLevel and flag schemas). */
export const LOG_LEVEL_DOC: VariableDoc = { default: 'info', meaning: 'fatal, error, warn, info, debug, trace or silent' };
export const LOG_PRETTY_DOC: VariableDoc = { meaning: '1 for human-readable logs instead of JSON lines' };
/** `VIGIL_EXPORTER_TOKEN_FILE`, read by config's readSecretFiles in every program that has the token. */
export const EXPORTER_TOKEN_FILE_DOC: VariableDoc = {
  meaning: 'a file holding VIGIL_EXPORTER_TOKEN instead (a systemd credential, a compose secret): read at start, trailing newline dropped',
};

/** One {@link VariableDoc} per variable the schema reads, no more and no fewer. */
export type VariableDocs<S extends z.ZodMiniObject> = { readonly [K in keyof S['shape']]: VariableDoc };

const WIDTH = 100;
const NAME_COLUMN = 32;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** How a default reads in a help line and a table cell. */
function shownDefault(doc: VariableDoc): string | null {
  return doc.default !== undefined ? doc.default : (doc.defaultText ?? null);
}

/**
 * The variables as a `--help` section: `  NAME  meaning (default X)`, the
 * meaning wrapped at 100 columns under itself.
 */
export function variablesHelp(docs: Record<string, VariableDoc>): string {
  const out: string[] = [];
  for (const [name, doc] of Object.entries(docs)) {
    const d = shownDefault(doc);
    const text = d === null ? doc.meaning : `${doc.meaning} (default ${d})`;
    const lines = wrap(text, WIDTH - NAME_COLUMN);
    const head = `  ${name}`;
    if (head.length + 2 > NAME_COLUMN) {
      out.push(head);
      for (const l of lines) out.push(`${' '.repeat(NAME_COLUMN)}${l}`);
    } else {
      out.push(`${head.padEnd(NAME_COLUMN)}${lines[0] ?? ''}`);
      for (const l of lines.slice(1)) out.push(`${' '.repeat(NAME_COLUMN)}${l}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** The variables as a Markdown table (variable, default, meaning), as the README shows them. */
export function variablesTable(docs: Record<string, VariableDoc>): string {
  const rows = Object.entries(docs).map(([name, doc]) => {
    const d = shownDefault(doc);
    return `| \`${name}\` | ${d === null ? 'unset' : doc.default !== undefined ? `\`${d}\`` : d} | ${doc.meaning.replaceAll('|', '\\|')} |`;
  });
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/**
 * Checks a program's described defaults against its schema: each variable with
 * a `default` parses, written so, to the value the schema gives it when unset.
 * @returns one line per disagreement (empty when they agree)
 */
export function checkVariableDocs<S extends z.ZodMiniObject>(schema: S, docs: VariableDocs<S>): string[] {
  const problems: string[] = [];
  const unset = parseEnv(schema, {}) as Record<string, unknown>;
  for (const [name, doc] of Object.entries(docs) as [string, VariableDoc][]) {
    if (doc.default === undefined) continue;
    let written: unknown;
    try {
      written = (parseEnv(schema, { [name]: doc.default }) as Record<string, unknown>)[name];
    } catch (e) {
      problems.push(`${name}: the documented default ${JSON.stringify(doc.default)} does not parse: ${(e as Error).message}`);
      continue;
    }
    if (comparable(written) !== comparable(unset[name]))
      problems.push(
        `${name}: the documented default ${JSON.stringify(doc.default)} reads as ${JSON.stringify(written)}, the schema's default is ${JSON.stringify(unset[name])}`,
      );
  }
  return problems;
}

/** A parsed value as text to compare: regular expressions by source, sets by their members, the rest as JSON. */
function comparable(v: unknown): string {
  return JSON.stringify(v, (_, x) => (x instanceof RegExp ? String(x) : x instanceof Set ? [...x].sort() : x));
}

/**
 * The README's table of a program's variables, between `<!-- variables:NAME -->`
 * and `<!-- /variables:NAME -->`, or null when the markers are missing.
 */
export function readmeVariablesTable(readme: string, program: string): string | null {
  const open = `<!-- variables:${program} -->`;
  const close = `<!-- /variables:${program} -->`;
  const a = readme.indexOf(open);
  const b = readme.indexOf(close);
  if (a < 0 || b < a) return null;
  return readme.slice(a + open.length, b).trim();
}
