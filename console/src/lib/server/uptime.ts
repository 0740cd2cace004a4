import { type Database, type StateEvent, stateHistory, type Target } from '@vigil/db';
import type { Kysely } from 'kysely';
import type { UptimeView } from '$lib/api';
import { type StateChange, UPTIME_WINDOWS, type UptimeState, type UptimeWindow, uptimeDays, uptimeIn } from '$lib/uptime';

/** The longest window (90 days), and the days of the strip. */
const DAYS = 90;

/** An event as a change of the state availability counts time in. */
function changeOf(e: StateEvent): StateChange {
  const state: UptimeState = e.type === 'paused' ? 'paused' : ((e.to_state ?? 'unknown') as UptimeState);
  return { at: e.time.getTime(), state };
}

/**
 * A target's availability over 24 h, 7 d, 30 d and 90 d, and one bar per UTC
 * day for 90 days, from its state events (see $lib/uptime: paused, stopped and
 * not-yet-scraped time counted apart). Seconds, ratios 0..1.
 */
export async function targetUptime(db: Kysely<Database>, target: Pick<Target, 'id' | 'created_at'>, now = Date.now()): Promise<UptimeView> {
  const since = Math.floor(now / 86_400_000) * 86_400_000 - (DAYS - 1) * 86_400_000;
  const { before, changes } = await stateHistory(db, target.id, new Date(Math.min(since, now - UPTIME_WINDOWS['90d'] * 1000)));
  const initial: UptimeState = before ? changeOf(before).state : 'unknown';
  const list = changes.map(changeOf);
  const created = target.created_at.getTime();
  const windows = Object.fromEntries(
    (Object.entries(UPTIME_WINDOWS) as [UptimeWindow, number][]).map(([name, seconds]) => [
      name,
      uptimeIn(initial, list, now - seconds * 1000, now, created),
    ]),
  ) as UptimeView['windows'];
  return { windows, days: uptimeDays(initial, list, now, DAYS, created) };
}
