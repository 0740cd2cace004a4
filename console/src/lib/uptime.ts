/**
 * Availability from a target's state timeline (its `events`): how long it was
 * `up` out of the time it was watched and expected to answer.
 *
 * - `up` and `down` count: availability = up / (up + down).
 * - `stopped` (its exporter shut down cleanly), `paused` (nobody scrapes it on
 *   purpose) and `unknown` (added or resumed, not scraped yet) are counted
 *   apart and said so, never as downtime.
 * - Time before the target existed is not in the window at all.
 * - A database outage changes nothing: the scraper dates each transition when
 *   it happened (a `down` when the silence passed the limit), not when it could
 *   write it, and this works from those dates.
 */

/** The states time is counted in. */
export type UptimeState = 'up' | 'down' | 'stopped' | 'paused' | 'unknown';

/** A change of state at `at` (ms since the epoch). */
export interface StateChange {
  at: number;
  state: UptimeState;
}

/** Seconds spent in each state within a window, and the availability (null when no up or down time was seen). */
export interface Uptime {
  seconds: Record<UptimeState, number>;
  /** up / (up + down), 0..1; null with neither. */
  availability: number | null;
}

const STATES: readonly UptimeState[] = ['up', 'down', 'stopped', 'paused', 'unknown'];

/**
 * Time in each state within [from, to) (ms), from the state before the first
 * change (`initial`) and the changes (any order; sorted here; those before the
 * window give the state it starts in). The window starts no earlier than `createdAt`.
 */
export function uptimeIn(initial: UptimeState, changes: readonly StateChange[], from: number, to: number, createdAt: number): Uptime {
  const seconds = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<UptimeState, number>;
  const start = Math.max(from, createdAt);
  if (to > start) {
    const sorted = [...changes].sort((a, b) => a.at - b.at);
    let state = initial;
    let cursor = start;
    for (const c of sorted) {
      if (c.at <= start) {
        state = c.state;
        continue;
      }
      if (c.at >= to) break;
      seconds[state] += (c.at - cursor) / 1000;
      cursor = c.at;
      state = c.state;
    }
    seconds[state] += (to - cursor) / 1000;
  }
  const counted = seconds.up + seconds.down;
  return { seconds, availability: counted > 0 ? seconds.up / counted : null };
}

/** One UTC day of availability, for the strip of bars. */
export interface UptimeDay extends Uptime {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
}

/** The last `days` UTC days up to `now` (today partial), oldest first, each as uptimeIn counts it. */
export function uptimeDays(
  initial: UptimeState,
  changes: readonly StateChange[],
  now: number,
  days: number,
  createdAt: number,
): UptimeDay[] {
  const DAY = 86_400_000;
  const today = Math.floor(now / DAY) * DAY;
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const out: UptimeDay[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const from = today - i * DAY;
    out.push({ day: new Date(from).toISOString().slice(0, 10), ...uptimeIn(initial, sorted, from, Math.min(from + DAY, now), createdAt) });
  }
  return out;
}

/** The windows the host page and the API give: 24 h, 7 d, 30 d, 90 d. */
export const UPTIME_WINDOWS = { '24h': 86_400, '7d': 7 * 86_400, '30d': 30 * 86_400, '90d': 90 * 86_400 } as const;
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

/** How a day's bar is coloured: `good` ≥ 99.9 %, `fair` ≥ 99 %, `poor` ≥ 95 %, `bad` below, `none` without up or down time. */
export function availabilityClass(availability: number | null): 'good' | 'fair' | 'poor' | 'bad' | 'none' {
  if (availability === null) return 'none';
  if (availability >= 0.999) return 'good';
  if (availability >= 0.99) return 'fair';
  if (availability >= 0.95) return 'poor';
  return 'bad';
}
