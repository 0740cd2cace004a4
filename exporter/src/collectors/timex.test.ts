import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseExposition } from '@vigil/core/exposition';
import { MetricSink, renderFamilies } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { collect } from '../collector.js';
import { addTimexSeries, libcAdjtimex, type Timex, timexCollector } from './timex.js';

const DIR = path.join(FIXTURES, 'this-host/adjtimex');
const reading = (file: string) => JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as { state: number; timex: Timex };
const values = (sink: MetricSink) => new Map(parseExposition(renderFamilies(sink.families)).map((s) => [s.name, s.value]));

describe('timex', () => {
  it('gives node_exporter’s values for this host’s adjtimex(2) reading (unsynchronised: TIME_ERROR)', () => {
    const { state, timex } = reading('timex.json');
    const sink = new MetricSink();
    addTimexSeries(sink, state, timex);
    const theirs = new Map(parseExposition(readFileSync(path.join(DIR, 'node_exporter.prom'), 'utf8')).map((s) => [s.name, s.value]));
    expect(theirs.size).toBe(17);
    expect(values(sink)).toEqual(theirs);
    expect(sink.families.get('node_timex_pps_jitter_total')!.type).toBe('counter');
  });

  it('reads offsets in nanoseconds under STA_NANO, and a synchronised clock as 1', () => {
    const { state, timex } = reading('synced.json');
    const sink = new MetricSink();
    addTimexSeries(sink, state, timex);
    const v = values(sink);
    expect(v.get('node_timex_sync_status')).toBe(1);
    expect(v.get('node_timex_offset_seconds')).toBeCloseTo(-23817e-9, 15);
    expect(v.get('node_timex_frequency_adjustment_ratio')).toBeCloseTo(1 - 1254813 / 65536e6, 15);
    expect(v.get('node_timex_maxerror_seconds')).toBe(0.0045);
    expect(v.get('node_timex_tai_offset_seconds')).toBe(37);
    // Microseconds without STA_NANO.
    const micro = new MetricSink();
    addTimexSeries(micro, state, { ...timex, status: 1 });
    expect(values(micro).get('node_timex_offset_seconds')).toBeCloseTo(-0.023817, 12);
  });

  it('calls the kernel: this machine’s clock state, tick 1/USER_HZ-ish, as a collector', async () => {
    const { state, timex } = libcAdjtimex()();
    expect(state).toBeGreaterThanOrEqual(0);
    expect(state).toBeLessThanOrEqual(5);
    expect(timex.tick).toBeGreaterThan(900); // µs: 100 to 1000 Hz kernels
    expect(timex.tick).toBeLessThan(11_000);
    expect(timex.maxerror).toBeGreaterThanOrEqual(0);
    const c = await collect([timexCollector()], 5);
    expect(c.outcomes[0]).toMatchObject({ success: true });
    expect(c.sink.families.get('node_timex_sync_status')!.values[0]!.value).toBe(state === 5 ? 0 : 1);
  });

  it('fails the collector, not the scrape, when the reading fails', async () => {
    const c = await collect(
      [
        timexCollector(() => {
          throw new Error('timex: adjtimex(2) failed');
        }),
      ],
      5,
    );
    expect(c.outcomes[0]).toMatchObject({ success: false, error: 'timex: adjtimex(2) failed' });
  });
});
