import { describe, expect, it } from 'vitest';
import { MetricConflictError, MetricSink } from './metrics.js';

describe('MetricSink', () => {
  it('returns the same family for the same name and keeps samples in order', () => {
    const s = new MetricSink();
    s.gauge('a_bytes', 'A.').set({ x: '1' }, 1);
    s.gauge('a_bytes', 'A.').set({ x: '2' }, 2);
    expect(s.families.get('a_bytes')?.get()).toEqual({
      name: 'a_bytes', help: 'A.', type: 'gauge', aggregator: 'sum',
      values: [{ labels: { x: '1' }, value: 1 }, { labels: { x: '2' }, value: 2 }],
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
