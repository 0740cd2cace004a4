import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { paths, series } from '../../test/collectors.js';
import { localZone, localZoneFile, parseTzif, readClocksources, timeCollector } from './time.js';

describe('time', () => {
  const sys = path.join(FIXTURES, 'this-host', 'sys');
  const clock = path.join(sys, 'devices/system/clocksource/clocksource0');

  it('reads this host’s clock sources, and the time', async () => {
    const available = readFileSync(path.join(clock, 'available_clocksource'), 'utf8').trim().split(' ');
    const current = readFileSync(path.join(clock, 'current_clocksource'), 'utf8').trim();
    expect(await readClocksources(sys)).toEqual([{ device: '0', available, current }]);
    const sink = new MetricSink();
    await timeCollector({ ...paths, sys }, () => 1_800_000_000_500).update(sink, new AbortController().signal);
    expect(sink.families.get('node_time_seconds')?.values).toEqual([{ labels: {}, value: 1_800_000_000.5 }]);
    expect(sink.families.get('node_time_clocksource_available_info')?.values).toEqual(
      available.map((clocksource) => ({ labels: { clocksource, device: '0' }, value: 1 })),
    );
    expect(sink.families.get('node_time_clocksource_current_info')?.values).toEqual([
      { labels: { clocksource: current, device: '0' }, value: 1 },
    ]);
  });

  it('has no clock source series where sysfs has none', async () => {
    const sink = new MetricSink();
    await timeCollector({ ...paths, sys: '/nonexistent' }).update(sink, new AbortController().signal);
    expect([...sink.families.keys()]).toEqual(['node_time_seconds', 'node_time_zone_offset_seconds']);
  });
});

describe('time zone', () => {
  const withTz = async <T>(tz: string | undefined, f: () => Promise<T>): Promise<T> => {
    const saved = process.env.TZ;
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    try {
      return await f();
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  };
  it.each([
    ['UTC', '2026-11-25T12:00:00Z', 'UTC', 0],
    ['Europe/Berlin', '2026-11-25T12:00:00Z', 'CET', 3600],
    ['Europe/Berlin', '2026-07-01T12:00:00Z', 'CEST', 7200],
    ['America/New_York', '2026-11-25T12:00:00Z', 'EST', -18000],
    ['Asia/Kolkata', '2026-11-25T12:00:00Z', 'IST', 19800],
    ['Australia/Lord_Howe', '2026-11-25T12:00:00Z', '+11', 39600],
    ['Europe/Berlin', '1990-07-01T12:00:00Z', 'CEST', 7200],
    ['Asia/Kolkata', '1943-06-01T12:00:00Z', '+0630', 23400],
  ])('names %s at %s as Go does (%s, %i s)', async (tz, at, name, offset) => {
    const zone = await withTz(tz, () => localZone(new Date(at), tz));
    expect(zone).toEqual({ name, offsetSeconds: offset });
  });

  it('is UTC without a zone file, and for TZ="" or TZ=UTC', async () => {
    expect(await localZone(new Date(), '')).toMatchObject({ name: 'UTC' });
    expect(await localZone(new Date(), ':UTC')).toMatchObject({ name: 'UTC' });
    expect(await withTz('UTC', () => localZone(new Date(), '/nonexistent/zone'))).toEqual({ name: 'UTC', offsetSeconds: 0 });
    expect(localZoneFile(undefined)).toBe('/etc/localtime');
    expect(localZoneFile(':Europe/Paris')).toBe('/usr/share/zoneinfo/Europe/Paris');
  });

  it('refuses a file that is not TZif, and a truncated one, naming the problem', () => {
    expect(() => parseTzif(Buffer.from('# not a zone file, long enough to hold a TZif header.....'))).toThrow(
      /not a TZif time zone file: no TZif header/,
    );
    const berlin = readFileSync('/usr/share/zoneinfo/Europe/Berlin');
    expect(() => parseTzif(berlin.subarray(0, 200))).toThrow(/truncated/);
    const z = parseTzif(berlin);
    expect(z.footer).toBe('CET-1CEST,M3.5.0,M10.5.0/3');
    expect(new Set(z.types.map((t) => t.abbreviation))).toEqual(new Set(['LMT', 'CEST', 'CET', 'CEMT']));
  });

  it('adds node_time_zone_offset_seconds to the time collector', async () => {
    const got = await withTz('Asia/Kolkata', () => series(timeCollector(paths, () => Date.parse('2026-11-25T12:00:00Z'))));
    expect(got.get('node_time_zone_offset_seconds')).toEqual({ type: 'gauge', value: 19800 });
  });
});
