import { describe, expect, it } from 'vitest';
import { availabilityClass, type StateChange, uptimeDays, uptimeIn } from './uptime';

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.UTC(2026, 10, 1); // a midnight, UTC
const at = (hours: number, state: StateChange['state']): StateChange => ({ at: T0 + hours * H, state });

describe('uptimeIn', () => {
  it('counts up over up and down: 23 h up and 1 h down is 95.83 %', () => {
    const u = uptimeIn('up', [at(10, 'down'), at(11, 'up')], T0, T0 + DAY, T0 - DAY);
    expect(u.seconds).toEqual({ up: 23 * 3600, down: 3600, stopped: 0, paused: 0, unknown: 0 });
    expect(u.availability).toBeCloseTo(23 / 24, 10);
  });

  it('starts a host added mid-day when it was added, in its first state (unknown until the first scrape)', () => {
    const created = T0 + 12 * H;
    const u = uptimeIn('unknown', [{ at: created + 60_000, state: 'up' }], T0, T0 + DAY, created);
    expect(u.seconds.unknown).toBe(60);
    expect(u.seconds.up).toBe(12 * 3600 - 60);
    expect(u.seconds.down + u.seconds.paused + u.seconds.stopped).toBe(0);
    expect(u.availability).toBe(1); // the morning before it existed is not downtime
    // A window wholly before it existed: nothing at all.
    expect(uptimeIn('unknown', [], T0, T0 + H, created)).toEqual({
      seconds: { up: 0, down: 0, stopped: 0, paused: 0, unknown: 0 },
      availability: null,
    });
  });

  it('leaves a pause out, and the unknown time after the resume until the first scrape', () => {
    const u = uptimeIn('up', [at(2, 'paused'), at(5, 'unknown'), at(5.5, 'up'), at(20, 'down')], T0, T0 + DAY, 0);
    expect(u.seconds).toEqual({ up: 16.5 * 3600, down: 4 * 3600, stopped: 0, paused: 3 * 3600, unknown: 1800 });
    expect(u.availability).toBeCloseTo(16.5 / 20.5, 10);
  });

  it('leaves a clean stop out: stopped is neither up nor down', () => {
    const u = uptimeIn('up', [at(6, 'stopped'), at(8, 'up')], T0, T0 + DAY, 0);
    expect(u.seconds.stopped).toBe(2 * 3600);
    expect(u.availability).toBe(1);
  });

  it('counts a down written late (after a database outage) from when it happened, whatever the order it arrives in', () => {
    // The database was away from 09:00 to 10:00; the host died at 09:10; the scraper wrote the
    // down at 10:00, dated 09:10 — and its recovery at 09:40, written at the same moment.
    const changes = [at(9 + 40 / 60, 'up'), at(9 + 10 / 60, 'down')];
    const u = uptimeIn('up', changes, T0, T0 + DAY, 0);
    expect(u.seconds.down).toBeCloseTo(30 * 60, 6);
    expect(u.availability).toBeCloseTo(1 - 0.5 / 24, 10);
  });

  it('takes the state the window starts in from the changes before it, and ignores those after it', () => {
    const u = uptimeIn('unknown', [at(-30, 'up'), at(-2, 'down'), at(30, 'up')], T0, T0 + DAY, 0);
    expect(u.seconds.down).toBe(24 * 3600);
    expect(u.availability).toBe(0);
    // Exactly at the window's start, and a change at its end.
    expect(uptimeIn('down', [at(0, 'up'), at(24, 'down')], T0, T0 + DAY, 0).availability).toBe(1);
  });

  it('has no availability when it was never up or down (all paused)', () => {
    const u = uptimeIn('paused', [], T0, T0 + DAY, 0);
    expect(u.availability).toBeNull();
    expect(u.seconds.paused).toBe(86_400);
  });
});

describe('uptimeDays', () => {
  it('gives one bar per UTC day, oldest first, today partial, before the host existed empty', () => {
    const now = T0 + 2 * DAY + 6 * H; // 06:00 on the third day
    const changes = [at(-1, 'up'), at(24 + 12, 'down'), at(24 + 18, 'up')];
    const days = uptimeDays('unknown', changes, now, 5, T0 - 2 * H);
    expect(days.map((d) => d.day)).toEqual(['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02', '2026-11-03']);
    expect(days[0]!.availability).toBeNull(); // before it was added
    expect(days[1]!.seconds.unknown).toBe(3600);
    expect(days[1]!.seconds.up).toBe(3600);
    expect(days[2]!.availability).toBe(1);
    expect(days[3]!.availability).toBe(0.75);
    expect(days[4]!.seconds.up).toBe(6 * 3600); // today, up to now
  });
});

describe('availabilityClass', () => {
  it('colours by thresholds', () => {
    expect([0.9995, 0.999, 0.995, 0.97, 0.5, null].map(availabilityClass)).toEqual(['good', 'good', 'fair', 'poor', 'bad', 'none']);
  });
});
