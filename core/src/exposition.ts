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
  /**
   * @param line 1-based line of the body
   * @param column 1-based character of that line where it went wrong
   * @param reason what was expected there. Never a quote of the body: a scraped
   *   page (a metadata service, an admin page, a file) must not reach whoever
   *   reads the error. A metric or label name appears only in errors about a line
   *   that parsed (a label repeated, a TYPE or HELP line out of place).
   */
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`malformed exposition at line ${line}, column ${column}: ${reason}`);
  }
}

// Everything below reads untrusted text (a scraped body) in one pass, by
// character codes: no regular expression that could backtrack, so parse time
// is proportional to the input whatever its shape.

// Character classes by table: one load and a mask per character, where chained
// comparisons cost about twice as much on a node_exporter body.
const DIGIT = 1;
const LETTER = 2;
const BLANK = 4;
const NAME_START = 8;
const NAME_CHAR = 16;
const LABEL_START = 32;
const LABEL_CHAR = 64;
const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const digit = c >= 48 && c <= 57; // 0-9
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122); // A-Z a-z
  const nameStart = letter || c === 95 || c === 58; // _ :
  const labelStart = letter || c === 95;
  CLASSES[c] =
    (digit ? DIGIT : 0) |
    (letter ? LETTER : 0) |
    (c === 32 || c === 9 ? BLANK : 0) | // space, tab
    (nameStart ? NAME_START : 0) |
    (nameStart || digit ? NAME_CHAR : 0) |
    (labelStart ? LABEL_START : 0) |
    (labelStart || digit ? LABEL_CHAR : 0);
}
/** A character code's classes (none beyond ASCII, and none for NaN past the end of a string). */
const classOf = (c: number) => (c < 128 ? CLASSES[c]! : 0);
const isDigit = (c: number) => (classOf(c) & DIGIT) !== 0;
const isLetter = (c: number) => (classOf(c) & LETTER) !== 0;
const isBlank = (c: number) => (classOf(c) & BLANK) !== 0;
const isNameStart = (c: number) => (classOf(c) & NAME_START) !== 0;
const isNameChar = (c: number) => (classOf(c) & NAME_CHAR) !== 0;
const isLabelStart = (c: number) => (classOf(c) & LABEL_START) !== 0;
const isLabelChar = (c: number) => (classOf(c) & LABEL_CHAR) !== 0;

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
  return scanExposition(text).samples;
}

/**
 * Reads an exposition, checking every line, but builds samples only for the
 * series `keep` wants (all when it is not given): the others are validated
 * (names, labels, quoting, escapes, values) without their label values or
 * numbers being made, which is most of the work on a 1,000-line node_exporter
 * body when the caller needs a dozen series.
 * @returns the kept samples, and how many samples the exposition has in all
 * @throws ExpositionError at the first malformed line, naming it
 */
export function scanExposition(
  text: string,
  keep?: (name: string) => boolean,
  meta?: (keyword: 'HELP' | 'TYPE', line: string, payload: number, lineNo: number) => void,
): { samples: ScrapedSample[]; total: number } {
  const samples: ScrapedSample[] = [];
  let total = 0;
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
    if (sawEof) throw new ExpositionError(lineNo, first - lineStart + 1, 'content after # EOF');
    if (text.charCodeAt(lineStart) === 35) {
      // '#'
      const line = text.slice(lineStart, lineEnd);
      const c = commentKeyword(line);
      if (c?.keyword === 'EOF') sawEof = true;
      else if (c?.keyword === 'TYPE' && !isTypeLine(line, c.payload))
        throw new ExpositionError(lineNo, c.payload + 1, 'a TYPE line needs a metric name and a type');
      if (meta && (c?.keyword === 'TYPE' || c?.keyword === 'HELP')) meta(c.keyword, line, c.payload, lineNo);
      continue; // other comments are allowed anywhere
    }
    total++;
    const sample = parseSampleLine(text, lineStart, lineEnd, lineNo, keep);
    if (sample) samples.push(sample);
  }
  return { samples, total };
}

const NOT_A_NUMBER = 'the value is not a number (a decimal, NaN, +Inf or -Inf)';
const NOT_A_TIMESTAMP = 'the timestamp is not a whole number of milliseconds';

function parseSampleLine(text: string, start: number, end: number, lineNo: number, keep?: (name: string) => boolean): ScrapedSample | null {
  const n = end;
  let i = start;
  while (i < n && isBlank(text.charCodeAt(i))) i++;
  const nameStart = i;
  if (i >= n || !isNameStart(text.charCodeAt(i))) throw new ExpositionError(lineNo, i - start + 1, 'expected a metric name');
  while (i < n && isNameChar(text.charCodeAt(i))) i++;
  const name = text.slice(nameStart, i);
  // A series the caller does not want is checked, not built.
  const wanted = keep === undefined || keep(name);
  const labels: Record<string, string> = {};
  const afterName = i;
  while (i < n && isBlank(text.charCodeAt(i))) i++;
  let separated = i > afterName;
  if (text.charCodeAt(i) === 123) {
    // {
    i++;
    for (;;) {
      while (i < n && isBlank(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) === 125) {
        // }
        i++;
        break;
      }
      const ls = i;
      if (i >= n || !isLabelStart(text.charCodeAt(i))) throw new ExpositionError(lineNo, i - start + 1, 'expected a label name or }');
      while (i < n && isLabelChar(text.charCodeAt(i))) i++;
      const label = text.slice(ls, i);
      while (i < n && isBlank(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) !== 61) throw new ExpositionError(lineNo, i - start + 1, 'expected = after a label name'); // =
      i++;
      while (i < n && isBlank(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) !== 34) throw new ExpositionError(lineNo, i - start + 1, 'expected " to open a label value'); // "
      const valueOpen = i;
      i++;
      // The value, copied in runs between escapes rather than a character at a
      // time; with escapes, the runs are joined once at the end (repeated +=
      // makes V8 flatten ever longer ropes: 1 MB of escapes took 50x 256 KB's time).
      let value = '';
      let parts: string[] | null = null;
      let run = i;
      for (;;) {
        if (i >= n) throw new ExpositionError(lineNo, valueOpen - start + 1, 'a label value opened here is not closed on its line');
        const c = text.charCodeAt(i);
        if (c === 34) {
          if (wanted) {
            if (parts === null) value = text.slice(run, i);
            else {
              parts.push(text.slice(run, i));
              value = parts.join('');
            }
          }
          i++;
          break;
        }
        if (c === 92) {
          // backslash
          const e = text.charCodeAt(i + 1);
          if (e !== 110 && e !== 92 && e !== 34)
            throw new ExpositionError(lineNo, i - start + 1, 'a bad escape in a label value (only \\\\, \\" and \\n are allowed)');
          if (wanted) {
            parts ??= [];
            parts.push(text.slice(run, i), e === 110 ? '\n' : e === 92 ? '\\' : '"');
          }
          i += 2;
          run = i;
        } else i++;
      }
      if (wanted) {
        if (Object.hasOwn(labels, label)) throw new ExpositionError(lineNo, ls - start + 1, `label ${label} repeated in ${name}`);
        labels[label] = value;
      }
      while (i < n && isBlank(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) === 44)
        i++; // ,
      else if (text.charCodeAt(i) !== 125) throw new ExpositionError(lineNo, i - start + 1, 'expected , or } after a label value');
    }
    separated = i < n && isBlank(text.charCodeAt(i));
  }
  if (!separated || i >= n) throw new ExpositionError(lineNo, i - start + 1, 'expected a space and a value after the metric name');
  while (i < n && isBlank(text.charCodeAt(i))) i++;
  // The rest: value, optional timestamp, optional OpenMetrics exemplar (" # {...} v [ts]").
  let fields = 0;
  let valueStart = 0;
  let valueEnd = 0;
  let tsStart = -1;
  let tsEnd = -1;
  while (i < n && text.charCodeAt(i) !== 35) {
    const f = i;
    while (i < n && !isBlank(text.charCodeAt(i))) i++;
    fields++;
    if (fields === 1) {
      valueStart = f;
      valueEnd = i;
    } else if (fields === 2) {
      tsStart = f;
      tsEnd = i;
    } else throw new ExpositionError(lineNo, f - start + 1, 'expected "value [timestamp]", found a third field');
    while (i < n && isBlank(text.charCodeAt(i))) i++;
  }
  if (fields === 0) throw new ExpositionError(lineNo, i - start + 1, 'expected a value');
  if (!wanted) {
    // Checked as closely as a kept sample, but nothing is built.
    if (!isDecimal(text, valueStart, valueEnd) && parseSampleValue(text.slice(valueStart, valueEnd)) === null)
      throw new ExpositionError(lineNo, valueStart - start + 1, NOT_A_NUMBER);
    if (tsStart >= 0 && !isTimestamp(text.slice(tsStart, tsEnd))) throw new ExpositionError(lineNo, tsStart - start + 1, NOT_A_TIMESTAMP);
    return null;
  }
  const value = parseSampleValue(text.slice(valueStart, valueEnd));
  if (value === null) throw new ExpositionError(lineNo, valueStart - start + 1, NOT_A_NUMBER);
  const sample: ScrapedSample = { name, labels, value: value! };
  if (tsStart >= 0) {
    const raw = text.slice(tsStart, tsEnd);
    const ts = Number(raw);
    if (!isTimestamp(raw) || !Number.isFinite(ts)) throw new ExpositionError(lineNo, tsStart - start + 1, NOT_A_TIMESTAMP);
    sample.timestampMs = ts;
  }
  return sample;
}

/** A metric family as an exposition declares it: its samples, with the HELP and TYPE lines that named it. */
export interface ScrapedFamily {
  name: string;
  /** The HELP text, unescaped; undefined when the exposition gave none. */
  help?: string;
  /** The TYPE (`untyped` when the exposition gave none; OpenMetrics' `unknown` read as `untyped`). */
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: ScrapedSample[];
}

/** The series names a family of `type` named `name` owns, beyond its own name. */
function familySuffixes(type: ScrapedFamily['type']): readonly string[] {
  if (type === 'histogram') return ['_bucket', '_sum', '_count'];
  if (type === 'summary') return ['_sum', '_count'];
  if (type === 'counter') return ['_total'];
  return [];
}

/**
 * Parses an exposition into metric families, as Prometheus' text parser
 * groups them: a sample belongs to the family its TYPE line declared (a
 * histogram's `_bucket`, `_sum`, `_count`, a summary's `_sum`, `_count`),
 * else to an untyped family of its own name. Linear in the text's length.
 * @returns families in order of first appearance
 * @throws ExpositionError for a malformed line, a second HELP or TYPE line for
 *   one family, a TYPE line after the family's samples, or an OpenMetrics type
 *   this format does not carry (gaugehistogram, stateset, info)
 */
export function parseFamilies(text: string): ScrapedFamily[] {
  const families = new Map<string, ScrapedFamily>();
  // Series name → the typed family that owns it (a histogram's name_bucket…).
  const owners = new Map<string, ScrapedFamily>();
  const seenHelp = new Set<string>();
  const typed = new Set<string>();
  const sampled = new Set<string>();
  const familyOf = (name: string) => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const keep = (name: string) => {
    sampled.add(name);
    if (!owners.has(name)) familyOf(name); // families in order of first appearance
    return true;
  };
  const { samples } = scanExposition(text, keep, (keyword, line, payload, lineNo) => {
    let i = payload;
    while (i < line.length && isBlank(line.charCodeAt(i))) i++;
    const nameStart = i;
    while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
    const name = line.slice(nameStart, i);
    if (name === '') throw new ExpositionError(lineNo, nameStart + 1, `${keyword} line without a metric name`);
    while (i < line.length && isBlank(line.charCodeAt(i))) i++;
    const rest = line.slice(i);
    const f = familyOf(name);
    if (keyword === 'HELP') {
      if (seenHelp.has(name)) throw new ExpositionError(lineNo, nameStart + 1, `second HELP line for ${name}`);
      seenHelp.add(name);
      f.help = unescapeHelp(rest);
      return;
    }
    const type = rest.trimEnd() === 'unknown' ? 'untyped' : rest.trimEnd();
    if (type !== 'counter' && type !== 'gauge' && type !== 'histogram' && type !== 'summary' && type !== 'untyped')
      throw new ExpositionError(
        lineNo,
        i + 1,
        `the type of ${name} is not one the text format carries (counter, gauge, histogram, summary, untyped)`,
      );
    if (
      owners.has(name) ||
      typed.has(name) ||
      sampled.has(name) ||
      familySuffixes(type as ScrapedFamily['type']).some((x) => sampled.has(name + x))
    )
      throw new ExpositionError(lineNo, nameStart + 1, `TYPE line for ${name} after its samples or a second TYPE line`);
    f.type = type;
    typed.add(name);
    for (const suffix of familySuffixes(type)) owners.set(name + suffix, f);
  });
  for (const s of samples) {
    const owner = owners.get(s.name);
    // A counter's own name stays its family's, as does a summary's quantile sample.
    (owner ?? familyOf(s.name)).samples.push(s);
  }
  const out: ScrapedFamily[] = [];
  for (const f of families.values()) {
    if (f.samples.length > 0 || f.type !== 'untyped' || f.help !== undefined) out.push(f);
  }
  return out;
}

/** A HELP text's escapes (`\\`, `\n`) read back, in one pass. */
function unescapeHelp(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === 'n' || s[i + 1] === '\\')) {
      out += s[i + 1] === 'n' ? '\n' : '\\';
      i++;
    } else out += c;
  }
  return out;
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
