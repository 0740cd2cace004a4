import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, formatValue, MetricConflictError, MetricFamily, MetricSink, renderFamilies } from './render.js';

describe('MetricSink', () => {
  it('returns the same family for the same name and keeps samples in order', () => {
    const s = new MetricSink();
    s.gauge('a_bytes', 'A.').set({ x: '1' }, 1);
    s.gauge('a_bytes', 'A.').set({ x: '2' }, 2);
    expect(s.families.get('a_bytes')).toMatchObject({
      name: 'a_bytes',
      help: 'A.',
      type: 'gauge',
      values: [
        { labels: { x: '1' }, value: 1 },
        { labels: { x: '2' }, value: 2 },
      ],
    });
  });

  it('refuses a name declared with two types, and a counter without _total', () => {
    const s = new MetricSink();
    s.gauge('b', 'B.');
    expect(() => s.counter('b', 'B.')).toThrow(MetricConflictError);
    expect(() => s.counter('c_seconds', 'C.')).toThrow(/must end in _total/);
  });

  it('absorbs another sink, merging same-named families and refusing type clashes', () => {
    const a = new MetricSink();
    a.gauge('g', 'G.').set({ k: 'a' }, 1);
    const b = new MetricSink();
    b.gauge('g', 'G.').set({ k: 'b' }, 2);
    b.counter('n_total', 'N.').set({}, 3);
    a.absorb(b);
    expect(a.families.get('g')?.values.map((v) => v.value)).toEqual([1, 2]);
    expect(a.families.get('n_total')?.values).toEqual([{ labels: {}, value: 3 }]);
    const c = new MetricSink();
    c.counter('g_total', 'G.');
    const d = new MetricSink();
    d.gauge('g_total', 'G.');
    expect(() => c.absorb(d)).toThrow(MetricConflictError);
  });
});

describe('renderFamilies', () => {
  it('writes HELP, TYPE and samples, escaping help and label values', () => {
    const s = new MetricSink();
    s.gauge('node_filesystem_avail_bytes', 'Free space \\ for "users"\nin bytes.').set(
      { mountpoint: '/mnt/a"b', device: 'C:\\x\ny' },
      1024,
    );
    s.counter('node_context_switches_total', 'Context switches.').set({}, 7);
    s.gauge('empty', 'No samples this scrape.');
    expect(renderFamilies(s.families)).toBe(
      [
        '# HELP node_filesystem_avail_bytes Free space \\\\ for "users"\\nin bytes.',
        '# TYPE node_filesystem_avail_bytes gauge',
        'node_filesystem_avail_bytes{mountpoint="/mnt/a\\"b",device="C:\\\\x\\ny"} 1024',
        '',
        '# HELP node_context_switches_total Context switches.',
        '# TYPE node_context_switches_total counter',
        'node_context_switches_total 7',
      ].join('\n'),
    );
  });

  it('declares OpenMetrics counters without _total and separates families by one newline', () => {
    const s = new MetricSink();
    s.counter('a_total', 'A.').set({ k: 'v' }, 1.5);
    s.gauge('b', 'B.').set({}, -0.25);
    expect(renderFamilies(s.families, true)).toBe(
      '# HELP a A.\n# TYPE a counter\na_total{k="v"} 1.5\n# HELP b B.\n# TYPE b gauge\nb -0.25',
    );
  });

  it('declares an untyped family as node_exporter does, and as unknown in OpenMetrics', () => {
    const s = new MetricSink();
    s.untyped('node_vmstat_pgfault', '/proc/vmstat information field pgfault.').set({}, 12);
    s.of({ name: 'node_vmstat_oom_kill', type: 'untyped', help: '/proc/vmstat information field oom_kill.' }).set({}, 0);
    expect(renderFamilies(s.families)).toBe(
      '# HELP node_vmstat_pgfault /proc/vmstat information field pgfault.\n# TYPE node_vmstat_pgfault untyped\nnode_vmstat_pgfault 12\n\n' +
        '# HELP node_vmstat_oom_kill /proc/vmstat information field oom_kill.\n# TYPE node_vmstat_oom_kill untyped\nnode_vmstat_oom_kill 0',
    );
    expect(renderFamilies([s.families.get('node_vmstat_pgfault')!], true)).toContain('# TYPE node_vmstat_pgfault unknown\n');
    expect(() => s.gauge('node_vmstat_pgfault', 'x')).toThrow(MetricConflictError);
  });

  it('returns nothing when no family has samples', () => {
    expect(renderFamilies([new MetricFamily('x', 'X.', 'gauge')])).toBe('');
  });

  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
    [0, '0'],
    [1e21, '1e+21'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [5e-324, '5e-324'],
    [-3, '-3'],
  ])('formats %s as %s', (v, text) => {
    expect(formatValue(v)).toBe(text);
  });

  // prom-client's Registry is the reference for everything but NaN, which it spells "Nan".
  it.each([false, true])('matches prom-client byte for byte on random families (OpenMetrics: %s)', async (openMetrics) => {
    let seed = openMetrics ? 7 : 3;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const pieces = ['a', 'Z', '0', ' ', '\\', '"', '\n', 'é', '😀', '{', '}', '=', ',', '#'];
    const values = [0, 1, -1, 0.1, 1e-9, 123456789012, 2 ** 53, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const families: MetricFamily[] = [];
    for (let i = 0; i < 40; i++) {
      const type = rand() < 0.5 ? 'counter' : 'gauge';
      const f = new MetricFamily(
        `m${i}${type === 'counter' ? '_total' : ''}`,
        Array.from({ length: 6 }, () => pick(pieces)).join(''),
        type,
      );
      const n = Math.floor(rand() * 4);
      for (let j = 0; j < n; j++) {
        const labels: Record<string, string> = {};
        for (let k = Math.floor(rand() * 4); k > 0; k--)
          labels[`l${k}`] = Array.from({ length: Math.floor(rand() * 8) }, () => pick(pieces)).join('');
        f.set(labels, pick(values));
      }
      families.push(f);
    }
    const registry = new Registry();
    registry.setContentType((openMetrics ? CONTENT_TYPES.openMetrics : CONTENT_TYPES.text) as never);
    for (const f of families) {
      if (f.values.length === 0) continue;
      // prom-client renames an OpenMetrics counter in place (drops _total), then reads get().name.
      registry.registerMetric({
        name: f.name,
        help: f.help,
        type: f.type,
        aggregator: 'sum',
        get(this: { name: string }) {
          return { name: this.name, help: f.help, type: f.type, values: f.values };
        },
      } as never);
    }
    const reference = (await registry.metrics()).replace(/\n# EOF\n$|\n$/, '');
    expect(renderFamilies(families, openMetrics)).toBe(reference);
    expect(reference.length).toBeGreaterThan(1000);
  });
});

describe('renderFamilies: families read from outside', () => {
  it('names histogram samples by their series and gives a counter without _total its suffix in OpenMetrics only', () => {
    const sink = new MetricSink();
    const h = sink.family('lat', 'Latency.', 'histogram');
    h.set({ le: '+Inf' }, 3, 'lat_bucket');
    h.set({}, 2.5, 'lat_sum');
    h.set({}, 3, 'lat_count');
    sink.family('runs', 'Runs.', 'counter').set({}, 4);
    sink.family('done_total', 'Done.', 'counter').set({}, 1);
    expect(renderFamilies(sink.families)).toBe(
      [
        '# HELP lat Latency.',
        '# TYPE lat histogram',
        'lat_bucket{le="+Inf"} 3',
        'lat_sum 2.5',
        'lat_count 3',
        '',
        '# HELP runs Runs.',
        '# TYPE runs counter',
        'runs 4',
        '',
        '# HELP done_total Done.',
        '# TYPE done_total counter',
        'done_total 1',
      ].join('\n'),
    );
    const om = renderFamilies(sink.families, true);
    expect(om).toContain('# TYPE runs counter\nruns_total 4');
    expect(om).toContain('# TYPE done counter\ndone_total 1');
    expect(om).toContain('# TYPE lat histogram\nlat_bucket{le="+Inf"} 3\nlat_sum 2.5');
  });
});
