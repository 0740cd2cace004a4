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

// Everything below reads untrusted text (a scraped body) in one pass, by
// character codes: no regular expression that could backtrack, so parse time
// is proportional to the input whatever its shape.

const isDigit = (c: number) => c >= 48 && c <= 57; // 0-9
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122); // A-Z a-z
const isBlank = (c: number) => c === 32 || c === 9; // space, tab
const isNameStart = (c: number) => isLetter(c) || c === 95 || c === 58; // _ :
const isNameChar = (c: number) => isNameStart(c) || isDigit(c);
const isLabelStart = (c: number) => isLetter(c) || c === 95;
const isLabelChar = (c: number) => isLabelStart(c) || isDigit(c);

/** Whether `s[from, to)` is a decimal float as Go's ParseFloat reads it: [+-] digits [. digits] [e [+-] digits], at least one digit. */
function isDecimal(s: string, from: number, to: number): boolean {
  let i = from;
  if (i < to && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++; // + -
  let digits = 0;
  while (i < to && isDigit(s.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < to && s.charCodeAt(i) === 46) {
    // .
    i++;
    while (i < to && isDigit(s.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (i < to && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) {
    // e E
    i++;
    if (i < to && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const expStart = i;
    while (i < to && isDigit(s.charCodeAt(i))) i++;
    if (i === expStart) return false;
  }
  return i === to;
}

/** Reads a sample value as Go's strconv.ParseFloat would: decimals, exponents, ±Inf, NaN. Linear in its length. */
export function parseSampleValue(s: string): number | null {
  if (s.length <= 9) {
    const lower = s.toLowerCase();
    if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
    if (lower === '-inf' || lower === '-infinity') return -Infinity;
    if (lower === 'nan') return NaN;
  }
  return isDecimal(s, 0, s.length) ? Number(s) : null;
}

/** Whether `s` is a timestamp: [-] digits [. digits]. */
function isTimestamp(s: string): boolean {
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  const first = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  if (i === first) return false;
  if (i < s.length && s.charCodeAt(i) === 46) {
    const frac = ++i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i === frac) return false;
  }
  return i === s.length;
}

const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown', 'gaugehistogram', 'stateset', 'info']);

/** Checks a `# TYPE name type` line's payload (after "TYPE"): a metric name, blanks, a known type. */
function isTypeLine(line: string, from: number): boolean {
  let i = from;
  while (i < line.length && isBlank(line.charCodeAt(i))) i++;
  if (i >= line.length || !isNameStart(line.charCodeAt(i))) return false;
  while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
  const afterName = i;
  while (i < line.length && isBlank(line.charCodeAt(i))) i++;
  if (i === afterName) return false;
  let end = line.length;
  while (end > i && isBlank(line.charCodeAt(end - 1))) end--;
  return TYPES.has(line.slice(i, end));
}

/** The keyword of a `# KEYWORD …` comment line (HELP, TYPE, UNIT, EOF) and where its payload starts; null for other comments. */
function commentKeyword(line: string): { keyword: string; payload: number } | null {
  let i = 1;
  const blanks = i;
  while (i < line.length && isBlank(line.charCodeAt(i))) i++;
  if (i === blanks) return null;
  const start = i;
  while (i < line.length && isLetter(line.charCodeAt(i))) i++;
  const word = line.slice(start, i);
  if (word !== 'HELP' && word !== 'TYPE' && word !== 'UNIT' && word !== 'EOF') return null;
  if (i < line.length && !isBlank(line.charCodeAt(i))) return null; // e.g. "# HELPFUL"
  return { keyword: word, payload: i };
}

/**
 * Parses an exposition into its samples, in order. One pass over the text;
 * time proportional to its length for any input.
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
    let lineEnd = end;
    if (lineEnd > start && text.charCodeAt(lineEnd - 1) === 13) lineEnd--; // \r
    let first = start;
    while (first < lineEnd && isBlank(text.charCodeAt(first))) first++;
    const lineStart = start;
    start = end + 1;
    if (first === lineEnd) continue; // blank line
    if (sawEof) throw new ExpositionError(lineNo, 'content after # EOF');
    const line = text.slice(lineStart, lineEnd);
    if (text.charCodeAt(lineStart) === 35) {
      // '#'
      const c = commentKeyword(line);
      if (c?.keyword === 'EOF') sawEof = true;
      else if (c?.keyword === 'TYPE' && !isTypeLine(line, c.payload))
        throw new ExpositionError(lineNo, `bad TYPE line ${JSON.stringify(line.slice(0, 80))}`);
      continue; // other comments are allowed anywhere
    }
    samples.push(parseSampleLine(line, lineNo));
  }
  return samples;
}

function parseSampleLine(line: string, lineNo: number): ScrapedSample {
  const n = line.length;
  let i = 0;
  const fail = (reason: string): never => {
    throw new ExpositionError(lineNo, reason);
  };
  const skipBlanks = () => {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
  };
  skipBlanks();
  const nameStart = i;
  if (i >= n || !isNameStart(line.charCodeAt(i))) fail(`expected a metric name, got ${JSON.stringify(line.slice(0, 40))}`);
  while (i < n && isNameChar(line.charCodeAt(i))) i++;
  const name = line.slice(nameStart, i);
  const labels: Record<string, string> = {};
  const afterName = i;
  skipBlanks();
  let separated = i > afterName;
  if (line.charCodeAt(i) === 123) {
    // {
    i++;
    for (;;) {
      skipBlanks();
      if (line.charCodeAt(i) === 125) {
        // }
        i++;
        break;
      }
      const ls = i;
      if (i >= n || !isLabelStart(line.charCodeAt(i))) fail(`expected a label name or } in ${name}`);
      while (i < n && isLabelChar(line.charCodeAt(i))) i++;
      const label = line.slice(ls, i);
      skipBlanks();
      if (line.charCodeAt(i) !== 61) fail(`expected = after label ${label} of ${name}`); // =
      i++;
      skipBlanks();
      if (line.charCodeAt(i) !== 34) fail(`expected " to open the value of label ${label} of ${name}`); // "
      i++;
      // The value, copied in runs between escapes rather than a character at a time.
      let value = '';
      let run = i;
      for (;;) {
        if (i >= n) fail(`unterminated value of label ${label} of ${name}`);
        const c = line.charCodeAt(i);
        if (c === 34) {
          value += line.slice(run, i);
          i++;
          break;
        }
        if (c === 92) {
          // backslash
          value += line.slice(run, i);
          const e = line.charCodeAt(i + 1);
          if (e === 110) value += '\n';
          else if (e === 92 || e === 34) value += line[i + 1];
          else fail(`bad escape \\${line[i + 1] ?? ''} in label ${label} of ${name}`);
          i += 2;
          run = i;
        } else i++;
      }
      if (Object.hasOwn(labels, label)) fail(`label ${label} repeated in ${name}`);
      labels[label] = value;
      skipBlanks();
      if (line.charCodeAt(i) === 44)
        i++; // ,
      else if (line.charCodeAt(i) !== 125) fail(`expected , or } after label ${label} of ${name}`);
    }
    separated = i < n && isBlank(line.charCodeAt(i));
  }
  if (!separated || i >= n) fail(`expected a space and a value after ${name}`);
  skipBlanks();
  // The rest: value, optional timestamp, optional OpenMetrics exemplar (" # {...} v [ts]").
  const fields: string[] = [];
  while (i < n && line.charCodeAt(i) !== 35) {
    const f = i;
    while (i < n && !isBlank(line.charCodeAt(i))) i++;
    fields.push(line.slice(f, i));
    if (fields.length > 2)
      fail(`expected "value [timestamp]" after ${name}, got ${JSON.stringify(line.slice(Math.max(0, f - 40), f + 40))}`);
    skipBlanks();
  }
  if (fields.length === 0) fail(`expected "value [timestamp]" after ${name}, got ${JSON.stringify(line.slice(i, i + 40))}`);
  const value = parseSampleValue(fields[0]!);
  if (value === null) fail(`${JSON.stringify(fields[0]!.slice(0, 40))} is not a number (sample ${name})`);
  const sample: ScrapedSample = { name, labels, value: value! };
  if (fields[1] !== undefined) {
    const ts = Number(fields[1]);
    if (!isTimestamp(fields[1]) || !Number.isFinite(ts))
      fail(`${JSON.stringify(fields[1].slice(0, 40))} is not a timestamp (sample ${name})`);
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
