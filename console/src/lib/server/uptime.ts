import { type Database, probeHistory, type StateEvent, stateHistory, type Target } from '@vigil/db';
import type { Kysely } from 'kysely';
import type { ProbeFigures, ProbeUptimeView, UptimeView } from '$lib/api';
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

const figures = (ok: number, total: number): ProbeFigures => ({ ok, total, availability: total > 0 ? ok / total : null });

/**
 * Each probed service's availability on a target: successful results over
 * results (one per successful scrape, from db's probeHistory) in the last
 * 24 hours, the last 7, 30 and 90 UTC days (today included), and per day for
 * 90 days, oldest first. Scrapes that failed, pauses, stops and database
 * outages give no result and count neither way.
 */
export async function probeUptime(db: Kysely<Database>, targetId: number, now = Date.now()): Promise<ProbeUptimeView[]> {
  const DAY = 86_400_000;
  const today = Math.floor(now / DAY) * DAY;
  const dayKeys = Array.from({ length: DAYS }, (_, i) => new Date(today - (DAYS - 1 - i) * DAY).toISOString().slice(0, 10));
  return (await probeHistory(db, targetId, new Date(now), DAYS)).map((p) => {
    const byDay = new Map(p.days.map((d) => [d.day, d]));
    const days = dayKeys.map((day) => ({ day, ...figures(byDay.get(day)?.ok ?? 0, byDay.get(day)?.total ?? 0) }));
    const lastDays = (n: number) => {
      let ok = 0;
      let total = 0;
      for (const d of days.slice(-n)) {
        ok += d.ok;
        total += d.total;
      }
      return figures(ok, total);
    };
    return {
      name: p.name,
      windows: { '24h': figures(p.last24h.ok, p.last24h.total), '7d': lastDays(7), '30d': lastDays(30), '90d': lastDays(90) },
      days,
    };
  });
}
