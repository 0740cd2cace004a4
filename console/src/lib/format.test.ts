import { describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatDuration, formatPercent } from './format.js';

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [10 * 1024 ** 2, '10.0 MiB'],
    [250 * 1024 ** 3, '250 GiB'],
    [-2048, '-2.00 KiB'],
    [null, '—'],
    [NaN, '—'],
  ])('formatBytes(%s) = %s', (b, s) => expect(formatBytes(b)).toBe(s));

  it.each([
    [0, '0 s'],
    [59.9, '59 s'],
    [60, '1 min'],
    [3599, '59 min'],
    [3600 + 120, '1 h 2 min'],
    [86_400 * 3 + 7200, '3 d 2 h'],
    [-5, '0 s'],
    [null, '—'],
  ])('formatDuration(%s) = %s', (s, t) => expect(formatDuration(s)).toBe(t));

  it('formats ages and percentages', () => {
    expect(formatAge(new Date(10_000), 25_000)).toBe('15 s ago');
    expect(formatAge('1970-01-01T00:00:10.000Z', 25_000)).toBe('15 s ago');
    expect(formatAge(null, 0)).toBe('never');
    expect(formatPercent(12.345)).toBe('12.3 %');
    expect(formatPercent(null)).toBe('—');
  });
});
