import { describe, expect, it } from 'vitest';
import { eventAfter, parseCast } from './cast';

describe('parseCast', () => {
  const text = [
    JSON.stringify({ version: 2, width: 100, height: 30, timestamp: 1 }),
    JSON.stringify([0.1, 'o', '$ ']),
    JSON.stringify([0.5, 'i', 'secret']),
    JSON.stringify([1.25, 'r', '120x40']),
    'not json',
    JSON.stringify([2, 'o', 'done\r\n']),
    '[3, "o", "tor',
  ].join('\n');
  it('reads the size and the output and resize events, skipping the rest', () => {
    const c = parseCast(text);
    expect(c).toEqual({
      cols: 100,
      rows: 30,
      duration: 2,
      events: [
        { t: 0.1, kind: 'o', data: '$ ' },
        { t: 1.25, kind: 'r', data: '120x40' },
        { t: 2, kind: 'o', data: 'done\r\n' },
      ],
    });
    expect(eventAfter(c, 0)).toBe(0);
    expect(eventAfter(c, 0.1)).toBe(1);
    expect(eventAfter(c, 1.9)).toBe(2);
    expect(eventAfter(c, 9)).toBe(3);
  });
  it('refuses what is not asciicast v2', () => {
    expect(() => parseCast('hello')).toThrow(/first line is not JSON/);
    expect(() => parseCast('{"version":1}')).toThrow(/not an asciicast v2/);
  });
});
