import { describe, expect, it } from 'vitest';
import { CHART_RANGES, chartRange, withGaps } from './charts.js';

describe('chartRange', () => {
  it('takes a known range and falls back otherwise', () => {
    expect(chartRange('7d')).toBe('7d');
    expect(chartRange(null)).toBe('1h');
    expect(chartRange('toString')).toBe('1h');
    expect(chartRange('2y', '24h')).toBe('24h');
  });
  it('keeps every range to a chart-sized number of points', () => {
    for (const r of Object.values(CHART_RANGES)) expect(r.seconds / r.step).toBeLessThanOrEqual(400);
  });
});

describe('withGaps', () => {
  it('breaks the line where buckets are missing, and only there', () => {
    expect(withGaps([0, 10, 20, 50], [[1, 2, 3, 4]], 10)).toEqual([
      [0, 10, 20, 30, 50],
      [1, 2, 3, null, 4],
    ]);
    expect(withGaps([0, 10], [[1, null]], 10)).toEqual([
      [0, 10],
      [1, null],
    ]);
  });

  it('takes a host scraped less often than the step as it is: a gap is 1.5 times its own spacing', () => {
    // Every 60 s in 15 s buckets: a line; then 5 minutes without a scrape: a gap.
    expect(withGaps([0, 60, 120, 180, 480, 540], [[1, 2, 3, 4, 5, 6]], 15)).toEqual([
      [0, 60, 120, 180, 240, 480, 540],
      [1, 2, 3, 4, null, 5, 6],
    ]);
  });
});
