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
    ['HTML', '<!doctype html>\n<html></html>', 1, 1, 'expected a metric name'],
    ['a missing value', 'up', 1, 3, 'expected a space and a value after the metric name'],
    ['a word for a value', 'up yes', 1, 4, 'the value is not a number (a decimal, NaN, +Inf or -Inf)'],
    ['an unterminated label value', 'up{job="a} 1', 1, 8, 'a label value opened here is not closed on its line'],
    ['a label without quotes', 'up{job=a} 1', 1, 8, 'expected " to open a label value'],
    ['a bad escape', 'up{job="a\\t"} 1', 1, 10, 'a bad escape in a label value (only \\\\, \\" and \\n are allowed)'],
    ['a repeated label', 'up{a="1",a="2"} 1', 1, 10, 'label a repeated in up'],
    ['a missing =', 'up{a "1"} 1', 1, 6, 'expected = after a label name'],
    ['a missing comma', 'up{a="1" b="2"} 1', 1, 10, 'expected , or } after a label value'],
    ['a bad timestamp', 'up 1 soon', 1, 6, 'the timestamp is not a whole number of milliseconds'],
    ['extra fields', 'up 1 2 3', 1, 8, 'expected "value [timestamp]", found a third field'],
    ['a bad TYPE line', 'ok 1\n# TYPE up sometimes', 2, 7, 'a TYPE line needs a metric name and a type'],
    ['content after EOF', '# EOF\nup 1', 2, 1, 'content after # EOF'],
    ['a label name starting with a digit', 'up{1a="x"} 1', 1, 4, 'expected a label name or }'],
  ])('rejects %s with the line, the column and the reason', (_, text, line, column, reason) => {
    let error: unknown;
    try {
      parseExposition(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpositionError);
    expect(error).toMatchObject({ line, column, reason, message: `malformed exposition at line ${line}, column ${column}: ${reason}` });
  });

  it.each([
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n', ['root', 'bash', 'daemon']],
    ['a metadata document', 'ami-id\nhostname\niam/security-credentials/admin-role\n', ['ami', 'hostname', 'admin-role']],
    ['words', 'password hunter2\n', ['password', 'hunter2']],
    ['a config file', 'db_password = "s3cret"\n', ['db_password', 's3cret']],
    ['a broken label', 'token{value=hunter2} 1\n', ['token', 'hunter2']],
    ['a bad escape', 'api_key{v="xyq\\zcd"} 1\n', ['api_key', 'xyq', 'zcd']],
    ['HTML', '<html><title>Admin: ops-9</title></html>', ['html', 'Admin', 'ops-9']],
  ])('never quotes the body of %s in its error', (_, text, secrets) => {
    let message = '';
    try {
      parseExposition(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^malformed exposition at line \d+, column \d+: /);
    for (const secret of secrets) expect(message).not.toContain(secret);
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
    ['a bad value', 'skip_me 1x', 'line 2, column 9: the value is not a number'],
    ['a bad timestamp', 'skip_me 1 12:00', 'line 2, column 11: the timestamp is not a whole number of milliseconds'],
    ['an unterminated label value', 'skip_me{a="b} 1', 'line 2, column 11: a label value opened here is not closed'],
    ['a bad escape', 'skip_me{a="\\q"} 1', 'line 2, column 12: a bad escape in a label value'],
    ['three fields', 'skip_me 1 2 3', 'line 2, column 13: expected "value [timestamp]", found a third field'],
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
      'line 2, column 8: TYPE line for a after its samples or a second TYPE line',
    );
    expect(() => parseFamilies('# HELP a x\n# HELP a y\na 1')).toThrow('line 2, column 8: second HELP line for a');
    expect(() => parseFamilies('a 1\n# TYPE a gauge')).toThrow('line 2, column 8: TYPE line for a after');
    expect(() => parseFamilies('h_bucket{le="1"} 1\n# TYPE h histogram')).toThrow('line 2, column 8: TYPE line for h after');
    expect(() => parseFamilies('# TYPE s stateset\ns 1')).toThrow('line 1, column 10: the type of s is not one the text format carries');
    expect(() => parseFamilies('# HELP\n')).toThrow('line 1, column 7: HELP line without a metric name');
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
