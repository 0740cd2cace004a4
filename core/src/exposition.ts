/**
 * A parser for the Prometheus text exposition format 0.0.4, also reading the
 * OpenMetrics 1.0 text that some exporters answer with (`# EOF`, exemplars).
 * It keeps samples only; HELP, TYPE and UNIT lines are checked and skipped.
 */

/** One sample: series name, labels, value, and the optional timestamp (ms since epoch). */
export interface ScrapedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

/** Thrown for input that is not an exposition; the message gives the line and what was expected. */
export class ExpositionError extends Error {
  override name = 'ExpositionError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`malformed exposition at line ${line}: ${reason}`);
  }
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;

/** Reads a sample value as Go's strconv.ParseFloat would: decimals, exponents, ±Inf, NaN. */
export function parseSampleValue(s: string): number | null {
  const lower = s.toLowerCase();
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}

/**
 * Parses an exposition into its samples, in order.
 * @throws ExpositionError at the first malformed line, naming it
 */
export function parseExposition(text: string): ScrapedSample[] {
  const samples: ScrapedSample[] = [];
  let lineNo = 0;
  let start = 0;
  let sawEof = false;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    if (sawEof) throw new ExpositionError(lineNo, 'content after # EOF');
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE|UNIT|EOF)\b\s*(.*)$/.exec(line);
      if (m?.[1] === 'EOF') sawEof = true;
      else if (
        m?.[1] === 'TYPE' &&
        !/^[a-zA-Z_:][a-zA-Z0-9_:]*\s+(counter|gauge|histogram|summary|untyped|unknown|gaugehistogram|stateset|info)\s*$/.test(m[2]!)
      ) {
        throw new ExpositionError(lineNo, `bad TYPE line ${JSON.stringify(line.slice(0, 80))}`);
      }
      continue; // other comments are allowed anywhere
    }
    samples.push(parseSampleLine(line, lineNo));
  }
  return samples;
}

function parseSampleLine(line: string, lineNo: number): ScrapedSample {
  let i = 0;
  const fail = (reason: string): never => {
    throw new ExpositionError(lineNo, reason);
  };
  const skipBlanks = () => {
    while (line[i] === ' ' || line[i] === '\t') i++;
  };
  skipBlanks();
  const nameStart = i;
  if (!NAME_START.test(line[i] ?? '')) fail(`expected a metric name, got ${JSON.stringify(line.slice(0, 40))}`);
  while (i < line.length && NAME_CHAR.test(line[i]!)) i++;
  const name = line.slice(nameStart, i);
  const labels: Record<string, string> = {};
  const afterName = i;
  skipBlanks();
  let separated = i > afterName;
  if (line[i] === '{') {
    i++;
    for (;;) {
      skipBlanks();
      if (line[i] === '}') {
        i++;
        break;
      }
      const ls = i;
      if (!LABEL_START.test(line[i] ?? '')) fail(`expected a label name or } in ${name}`);
      while (i < line.length && LABEL_CHAR.test(line[i]!)) i++;
      const label = line.slice(ls, i);
      skipBlanks();
      if (line[i] !== '=') fail(`expected = after label ${label} of ${name}`);
      i++;
      skipBlanks();
      if (line[i] !== '"') fail(`expected " to open the value of label ${label} of ${name}`);
      i++;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) fail(`unterminated value of label ${label} of ${name}`);
        i++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i++];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else fail(`bad escape \\${e ?? ''} in label ${label} of ${name}`);
        } else value += c;
      }
      if (Object.hasOwn(labels, label)) fail(`label ${label} repeated in ${name}`);
      labels[label] = value;
      skipBlanks();
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail(`expected , or } after label ${label} of ${name}`);
    }
    separated = line[i] === ' ' || line[i] === '\t';
  }
  if (!separated || i >= line.length) fail(`expected a space and a value after ${name}`);
  skipBlanks();
  // The rest: value, optional timestamp, optional OpenMetrics exemplar (" # {...} v [ts]").
  const hash = line.indexOf(' #', i);
  const rest = (hash >= 0 ? line.slice(i, hash) : line.slice(i)).trim().split(/[ \t]+/);
  if (rest.length > 2 || rest[0] === '') fail(`expected "value [timestamp]" after ${name}, got ${JSON.stringify(line.slice(i, i + 40))}`);
  const value = parseSampleValue(rest[0]!);
  if (value === null) fail(`${JSON.stringify(rest[0])} is not a number (sample ${name})`);
  const sample: ScrapedSample = { name, labels, value: value! };
  if (rest[1] !== undefined) {
    const ts = Number(rest[1]);
    if (!/^-?\d+(\.\d+)?$/.test(rest[1]) || !Number.isFinite(ts)) fail(`${JSON.stringify(rest[1])} is not a timestamp (sample ${name})`);
    sample.timestampMs = ts;
  }
  return sample;
}

/** Samples grouped by series name, for lookups when deriving figures. */
export function indexSamples(samples: readonly ScrapedSample[]): Map<string, ScrapedSample[]> {
  const byName = new Map<string, ScrapedSample[]>();
  for (const s of samples) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  return byName;
}
