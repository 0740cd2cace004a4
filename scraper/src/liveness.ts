import type { TargetLiveness, TargetState, Transition } from '@vigil/db';

/** A target's liveness facts as judged: the database's, with when this process last heard its exporter's goodbye. */
export type JudgedTarget = TargetLiveness & { goodbye_at?: Date | null };

/**
 * The liveness rule, with hysteresis: a target goes `down` when it has had no
 * successful scrape for `downAfterIntervals` intervals, and `up` on its first
 * success after it went down (or since it was added). The clock for "no
 * success" starts no earlier than the target's creation or the scraper's own
 * start, so a restarted scraper does not call its whole fleet down at once,
 * nor earlier than an `unknown` target's last change (a resumed target
 * starts afresh: its paused time is not silence).
 * A target whose exporter said goodbye after its last success is `stopped`,
 * and stays so, never `down`, until it next answers.
 * @param startedAt when this liveness job began watching (ms)
 * @returns the new state, or null to stay
 */
export function nextState(
  t: Pick<JudgedTarget, 'state' | 'interval_seconds' | 'created_at' | 'state_changed_at' | 'last_success' | 'goodbye_at'>,
  nowMs: number,
  startedAt: number,
  downAfterIntervals: number,
): TargetState | null {
  const lastSuccess = t.last_success?.getTime() ?? -Infinity;
  if ((t.goodbye_at?.getTime() ?? -Infinity) > lastSuccess) return t.state === 'stopped' ? null : 'stopped';
  if (t.state !== 'up' && lastSuccess >= t.state_changed_at.getTime()) return 'up';
  if (t.state === 'stopped') return null;
  const reference = Math.max(
    lastSuccess,
    t.created_at.getTime(),
    startedAt,
    t.state === 'unknown' ? t.state_changed_at.getTime() : -Infinity,
  );
  if (t.state !== 'down' && nowMs - reference > downAfterIntervals * t.interval_seconds * 1000) return 'down';
  return null;
}

/**
 * When a target that is found down became so: the moment its silence passed
 * `downAfterIntervals` intervals, which is earlier than `nowMs` when this pass
 * ran late (after a database outage, say).
 */
export function downSince(
  t: Pick<TargetLiveness, 'interval_seconds' | 'created_at' | 'last_success' | 'state' | 'state_changed_at'>,
  nowMs: number,
  startedAt: number,
  downAfterIntervals: number,
): number {
  const reference = Math.max(
    t.last_success?.getTime() ?? -Infinity,
    t.created_at.getTime(),
    startedAt,
    t.state === 'unknown' ? t.state_changed_at.getTime() : -Infinity,
  );
  return Math.min(nowMs, reference + downAfterIntervals * t.interval_seconds * 1000);
}

/**
 * The transitions to apply for a set of targets at `nowMs`, with a message each; a down one dated when it became down.
 * @param since when watching began (ms), for all targets or per target id (when this replica took it)
 */
export function decideTransitions(
  targets: readonly JudgedTarget[],
  nowMs: number,
  since: number | ((targetId: number) => number),
  downAfterIntervals: number,
): Transition[] {
  const out: Transition[] = [];
  for (const t of targets) {
    const startedAt = typeof since === 'number' ? since : since(t.id);
    const to = nextState(t, nowMs, startedAt, downAfterIntervals);
    if (!to) continue;
    const message =
      to === 'up'
        ? `${t.name} is up`
        : to === 'stopped'
          ? `${t.name} stopped: its exporter shut down cleanly`
          : `${t.name} is down: no successful scrape for ${downAfterIntervals} intervals (${downAfterIntervals * t.interval_seconds} s)${t.last_error ? `; last error: ${t.last_error}` : ''}`;
    out.push({
      targetId: t.id,
      from: t.state,
      to,
      at: new Date(
        to === 'down' ? downSince(t, nowMs, startedAt, downAfterIntervals) : to === 'stopped' ? (t.goodbye_at?.getTime() ?? nowMs) : nowMs,
      ),
      message,
    });
  }
  return out;
}

/** What this process saw of a target's scrapes (ms since the epoch). */
export interface Seen {
  lastSuccessMs: number | null;
  lastError: string | null;
  /** When its exporter last answered with the clean-shutdown goodbye. */
  goodbyeMs: number | null;
}

/**
 * A target's liveness facts with what this process saw merged in: the later of
 * the two last successes, the error of its own latest scrape when it has one,
 * and its last goodbye.
 */
export function mergeSeen(t: TargetLiveness, seen: Seen | undefined): JudgedTarget {
  if (!seen) return t;
  const db = t.last_success?.getTime() ?? null;
  const last = seen.lastSuccessMs === null ? db : db === null ? seen.lastSuccessMs : Math.max(db, seen.lastSuccessMs);
  return {
    ...t,
    last_success: last === null ? null : new Date(last),
    last_error: seen.lastSuccessMs !== null && seen.lastError === null ? null : (seen.lastError ?? t.last_error),
    goodbye_at: seen.goodbyeMs === null ? null : new Date(seen.goodbyeMs),
  };
}
