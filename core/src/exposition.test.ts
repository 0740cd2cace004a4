import { describe, expect, it } from 'vitest';
import { ExpositionError, parseExposition, parseFamilies, parseSampleValue, scanExposition } from './exposition.js';
import { MetricSink, renderFamilies } from './render.js';

describe('parseExposition', () => {
  it('reads names, labels, values and timestamps', () => {
    const text = [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      '',
      '# A comment that is neither HELP nor TYPE.',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
      'trailing_comma{a="1",} -Inf',
      'nan_value NaN',
      'spaces_around { a = "x" , b="y" }\t7',
    ].join('\n');
    expect(parseExposition(text)).toEqual([
      { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, timestampMs: 1395066363000 },
      { name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3, timestampMs: 1395066363000 },
      {
        name: 'msdos_file_access_time_seconds',
        labels: { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' },
        value: 1.458255915e9,
      },
      { name: 'metric_without_timestamp_and_labels', labels: {}, value: 12.47 },
      { name: 'something_weird', labels: { problem: 'division by zero' }, value: Infinity, timestampMs: -3982045 },
      { name: 'trailing_comma', labels: { a: '1' }, value: -Infinity },
      { name: 'nan_value', labels: {}, value: NaN },
      { name: 'spaces_around', labels: { a: 'x', b: 'y' }, value: 7 },
    ]);
  });

  it('reads OpenMetrics: # EOF, # UNIT and exemplars', () => {
    const text =
      '# TYPE foo counter\n# UNIT foo seconds\nfoo_total 17.0 1520879607.789 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789\n# EOF\n';
    expect(parseExposition(text)).toEqual([{ name: 'foo_total', labels: {}, value: 17, timestampMs: 1520879607.789 }]);
  });

  it('handles CRLF line ends and a missing final newline', () => {
    expect(parseExposition('a 1\r\nb 2')).toEqual([
      { name: 'a', labels: {}, value: 1 },
      { name: 'b', labels: {}, value: 2 },
    ]);
  });

  it.each([
    ['HTML', '<!doctype html>\n<html></html>', 1, /expected a metric name/],
    ['a missing value', 'up', 1, /expected a space and a value after up/],
    ['a word for a value', 'up yes', 1, /"yes" is not a number/],
    ['an unterminated label value', 'up{job="a} 1', 1, /unterminated value of label job/],
    ['a label without quotes', 'up{job=a} 1', 1, /expected " to open the value of label job/],
    ['a bad escape', 'up{job="a\\t"} 1', 1, /bad escape/],
    ['a repeated label', 'up{a="1",a="2"} 1', 1, /label a repeated/],
    ['a missing =', 'up{a "1"} 1', 1, /expected = after label a/],
    ['a missing comma', 'up{a="1" b="2"} 1', 1, /expected , or }/],
    ['a bad timestamp', 'up 1 soon', 1, /"soon" is not a timestamp/],
    ['extra fields', 'up 1 2 3', 1, /expected "value \[timestamp\]"/],
    ['a bad TYPE line', 'ok 1\n# TYPE up sometimes', 2, /bad TYPE line/],
    ['content after EOF', '# EOF\nup 1', 2, /after # EOF/],
    ['a label name starting with a digit', 'up{1a="x"} 1', 1, /expected a label name/],
  ])('rejects %s with the line and the reason', (_, text, line, reason) => {
    let error: unknown;
    try {
      parseExposition(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpositionError);
    expect((error as ExpositionError).line).toBe(line);
    expect((error as ExpositionError).message).toMatch(reason);
  });

  it('reads an empty page as no samples', () => {
    expect(parseExposition('')).toEqual([]);
    expect(parseExposition('# just comments\n')).toEqual([]);
  });
});

describe('parseSampleValue', () => {
  it.each([
    ['1', 1],
    ['-1.5', -1.5],
    ['1e3', 1000],
    ['1.5E-3', 0.0015],
    ['.5', 0.5],
    ['+Inf', Infinity],
    ['inf', Infinity],
    ['-Inf', -Infinity],
    ['0x10', null],
    ['', null],
    ['1,5', null],
    ['one', null],
  ])('%j → %j', (s, v) => {
    expect(parseSampleValue(s)).toBe(v);
  });
  it('reads NaN', () => {
    expect(parseSampleValue('NaN')).toBeNaN();
  });
});

describe('renderFamilies → parseExposition', () => {
  it.each([false, true])('reads back every sample the writer wrote (OpenMetrics: %s)', (openMetrics) => {
    let seed = openMetrics ? 11 : 5;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const pieces = ['a', '0', ' ', '\\', '"', '\n', 'é', '😀', '{', '}', '=', ',', '#', 'NaN'];
    const values = [0, -1, 0.1, 1e-9, 1e21, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const sink = new MetricSink();
    for (let i = 0; i < 30; i++) {
      const counter = rand() < 0.5;
      const f = counter ? sink.counter(`m${i}_total`, `help ${pick(pieces)}`) : sink.gauge(`m${i}`, `help ${pick(pieces)}`);
      for (let j = Math.floor(rand() * 4); j > 0; j--) {
        const labels: Record<string, string> = {};
        for (let k = Math.floor(rand() * 3); k > 0; k--)
          labels[`l${k}`] = Array.from({ length: Math.floor(rand() * 6) }, () => pick(pieces)).join('');
        f.set(labels, pick(values));
      }
    }
    const written = [...sink.families.values()].flatMap((f) => f.values.map((s) => ({ name: f.name, labels: s.labels, value: s.value })));
    expect(written.length).toBeGreaterThan(20);
    const text = renderFamilies(sink.families, openMetrics) + (openMetrics ? '\n# EOF\n' : '\n');
    expect(parseExposition(text)).toEqual(written);
  });
});

describe('scanExposition', () => {
  const text = ['# TYPE a counter', 'a_total{x="1"} 1', 'b{y="q\\"uote"} 2 1700000000000', 'a_total{x="2"} 3', 'c NaN'].join('\n');

  it('builds only the series it is asked for, and counts them all', () => {
    const { samples, total } = scanExposition(text, (name) => name === 'a_total');
    expect(total).toBe(4);
    expect(samples).toEqual([
      { name: 'a_total', labels: { x: '1' }, value: 1 },
      { name: 'a_total', labels: { x: '2' }, value: 3 },
    ]);
    expect(scanExposition(text).samples).toEqual(parseExposition(text));
  });

  it.each([
    ['a bad value', 'skip_me 1x', /"1x" is not a number \(sample skip_me\)/],
    ['a bad timestamp', 'skip_me 1 12:00', /"12:00" is not a timestamp/],
    ['an unterminated label value', 'skip_me{a="b} 1', /unterminated value of label a of skip_me/],
    ['a bad escape', 'skip_me{a="\\q"} 1', /bad escape \\q/],
    ['three fields', 'skip_me 1 2 3', /expected "value \[timestamp\]" after skip_me/],
  ])('still refuses %s in a series it skips', (_, line, message) => {
    expect(() => scanExposition(`keep 1\n${line}\n`, (name) => name === 'keep')).toThrow(message);
  });
});

describe('parseFamilies', () => {
  const text = [
    '# HELP backup_runs Backups started, with a \\\\ and a \\n in its help.',
    '# TYPE backup_runs counter',
    'backup_runs{repo="a"} 4',
    '# TYPE lat histogram',
    'lat_bucket{le="0.5"} 1',
    'lat_bucket{le="+Inf"} 3',
    'lat_sum 2.5',
    'lat_count 3',
    '# TYPE size summary',
    'size{quantile="0.5"} 10',
    'size_sum 40',
    'size_count 3',
    '# a plain comment',
    'plain 1',
    'lat_extra 2',
    '# TYPE om counter',
    'om_total 9',
    '# TYPE om_unknown unknown',
    'om_unknown 1',
  ].join('\n');

  it('groups samples into the families their TYPE lines declare, in order of appearance', () => {
    const families = parseFamilies(text);
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['backup_runs', 'counter', 1],
      ['lat', 'histogram', 4],
      ['size', 'summary', 3],
      ['plain', 'untyped', 1],
      ['lat_extra', 'untyped', 1],
      ['om', 'counter', 1],
      ['om_unknown', 'untyped', 1],
    ]);
    expect(families[0]!.help).toBe('Backups started, with a \\ and a \n in its help.');
    expect(families[1]!.samples.map((s) => s.name)).toEqual(['lat_bucket', 'lat_bucket', 'lat_sum', 'lat_count']);
    expect(families[1]!.help).toBeUndefined();
    expect(families[5]!.samples[0]).toEqual({ name: 'om_total', labels: {}, value: 9 });
  });

  it('refuses a second TYPE or HELP line for a family, and a TYPE line after its samples', () => {
    expect(() => parseFamilies('# TYPE a gauge\n# TYPE a counter\na 1')).toThrow(
      /line 2: TYPE line for a after its samples or a second TYPE line/,
    );
    expect(() => parseFamilies('# HELP a x\n# HELP a y\na 1')).toThrow(/line 2: second HELP line for a/);
    expect(() => parseFamilies('a 1\n# TYPE a gauge')).toThrow(/line 2: TYPE line for a after/);
    expect(() => parseFamilies('h_bucket{le="1"} 1\n# TYPE h histogram')).toThrow(/line 2: TYPE line for h after/);
    expect(() => parseFamilies('# TYPE s stateset\ns 1')).toThrow(/type stateset of s is not one the text format carries/);
    expect(() => parseFamilies('# HELP\n')).toThrow(/line 1: HELP line without a metric name/);
  });

  it('renders back to what it read (histograms and summaries by their sample names)', () => {
    const sink = new MetricSink();
    for (const f of parseFamilies(text)) {
      const family = sink.family(f.name, f.help ?? 'read back', f.type);
      for (const s of f.samples) family.set(s.labels, s.value, s.name === f.name ? undefined : s.name);
    }
    const again = parseFamilies(renderFamilies(sink.families));
    expect(again.map((f) => [f.name, f.type, f.samples])).toEqual(parseFamilies(text).map((f) => [f.name, f.type, f.samples]));
  });
});
