import type { TargetLiveness, TargetState, Transition } from '@vigil/db';

/**
 * The liveness rule, with hysteresis: a target goes `down` when it has had no
 * successful scrape for `downAfterIntervals` intervals, and `up` on its first
 * success after it went down (or since it was added). The clock for "no
 * success" starts no earlier than the target's creation or the scraper's own
 * start, so a restarted scraper does not call its whole fleet down at once.
 * @param startedAt when this liveness job began watching (ms)
 * @returns the new state, or null to stay
 */
export function nextState(
  t: Pick<TargetLiveness, 'state' | 'interval_seconds' | 'created_at' | 'state_changed_at' | 'last_success'>,
  nowMs: number,
  startedAt: number,
  downAfterIntervals: number,
): TargetState | null {
  const lastSuccess = t.last_success?.getTime() ?? -Infinity;
  if (t.state !== 'up' && lastSuccess >= t.state_changed_at.getTime()) return 'up';
  const reference = Math.max(lastSuccess, t.created_at.getTime(), startedAt);
  if (t.state !== 'down' && nowMs - reference > downAfterIntervals * t.interval_seconds * 1000) return 'down';
  return null;
}

/**
 * When a target that is found down became so: the moment its silence passed
 * `downAfterIntervals` intervals, which is earlier than `nowMs` when this pass
 * ran late (after a database outage, say).
 */
export function downSince(
  t: Pick<TargetLiveness, 'interval_seconds' | 'created_at' | 'last_success'>,
  nowMs: number,
  startedAt: number,
  downAfterIntervals: number,
): number {
  const reference = Math.max(t.last_success?.getTime() ?? -Infinity, t.created_at.getTime(), startedAt);
  return Math.min(nowMs, reference + downAfterIntervals * t.interval_seconds * 1000);
}

/** The transitions to apply for a set of targets at `nowMs`, with a message each; a down one dated when it became down. */
export function decideTransitions(
  targets: readonly TargetLiveness[],
  nowMs: number,
  startedAt: number,
  downAfterIntervals: number,
): Transition[] {
  const out: Transition[] = [];
  for (const t of targets) {
    const to = nextState(t, nowMs, startedAt, downAfterIntervals);
    if (!to) continue;
    const message =
      to === 'up'
        ? `${t.name} is up`
        : `${t.name} is down: no successful scrape for ${downAfterIntervals} intervals (${downAfterIntervals * t.interval_seconds} s)${t.last_error ? `; last error: ${t.last_error}` : ''}`;
    out.push({
      targetId: t.id,
      from: t.state,
      to,
      at: new Date(to === 'down' ? downSince(t, nowMs, startedAt, downAfterIntervals) : nowMs),
      message,
    });
  }
  return out;
}

/**
 * A target's liveness facts with what this process saw merged in: the later of
 * the two last successes, and the error of its own latest scrape when it has one.
 */
export function mergeSeen(t: TargetLiveness, seen: { lastSuccessMs: number | null; lastError: string | null } | undefined): TargetLiveness {
  if (!seen) return t;
  const db = t.last_success?.getTime() ?? null;
  const last = seen.lastSuccessMs === null ? db : db === null ? seen.lastSuccessMs : Math.max(db, seen.lastSuccessMs);
  return {
    ...t,
    last_success: last === null ? null : new Date(last),
    last_error: seen.lastSuccessMs !== null && seen.lastError === null ? null : (seen.lastError ?? t.last_error),
  };
}
