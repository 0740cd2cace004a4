import { describe, expect, it } from 'vitest';
import { decideTransitions, downSince, mergeSeen, nextState } from './liveness.js';

const S = 1000;
const T0 = 1_800_000_000_000;
const target = (o: Partial<Parameters<typeof nextState>[0]> = {}) => ({
  state: 'unknown' as const,
  interval_seconds: 10,
  created_at: new Date(T0),
  state_changed_at: new Date(T0),
  last_success: null,
  ...o,
});

describe('nextState', () => {
  it.each([
    ['unknown with a success → up', target({ last_success: new Date(T0 + 5 * S) }), T0 + 6 * S, 'up'],
    ['unknown, never scraped, within 3 intervals → stays', target(), T0 + 30 * S, null],
    ['unknown, never scraped, past 3 intervals → down', target(), T0 + 31 * S, 'down'],
    [
      'up, last success 30 s ago → stays (not past 3 intervals)',
      target({ state: 'up', last_success: new Date(T0 + 10 * S) }),
      T0 + 40 * S,
      null,
    ],
    ['up, last success 31 s ago → down', target({ state: 'up', last_success: new Date(T0 + 10 * S) }), T0 + 41 * S + 1, 'down'],
    [
      'down, success after going down → up',
      target({ state: 'down', state_changed_at: new Date(T0 + 50 * S), last_success: new Date(T0 + 55 * S) }),
      T0 + 56 * S,
      'up',
    ],
    [
      'down, last success before going down → stays',
      target({ state: 'down', state_changed_at: new Date(T0 + 50 * S), last_success: new Date(T0 + 10 * S) }),
      T0 + 99 * S,
      null,
    ],
    ['down, no success at all → stays', target({ state: 'down', state_changed_at: new Date(T0 + 50 * S) }), T0 + 999 * S, null],
    ['up with recent success → stays', target({ state: 'up', last_success: new Date(T0 + 100 * S) }), T0 + 101 * S, null],
    [
      'up, goodbye after the last success → stopped',
      target({ state: 'up', last_success: new Date(T0 + 10 * S), goodbye_at: new Date(T0 + 15 * S) }),
      T0 + 16 * S,
      'stopped',
    ],
    [
      'down, goodbye after the last success → stopped (it answered, so it is not silent)',
      target({ state: 'down', state_changed_at: new Date(T0 + 50 * S), goodbye_at: new Date(T0 + 60 * S) }),
      T0 + 61 * S,
      'stopped',
    ],
    [
      'stopped, silent for 100 intervals → stays stopped, never down',
      target({ state: 'stopped', state_changed_at: new Date(T0 + 15 * S), last_success: new Date(T0 + 10 * S) }),
      T0 + 1000 * S,
      null,
    ],
    [
      'stopped, goodbye still the newest → stays',
      target({ state: 'stopped', state_changed_at: new Date(T0 + 15 * S), goodbye_at: new Date(T0 + 15 * S) }),
      T0 + 20 * S,
      null,
    ],
    [
      'stopped, answers again → up',
      target({
        state: 'stopped',
        state_changed_at: new Date(T0 + 15 * S),
        last_success: new Date(T0 + 40 * S),
        goodbye_at: new Date(T0 + 15 * S),
      }),
      T0 + 41 * S,
      'up',
    ],
    [
      'up, a goodbye older than the last success (a restart) → stays up',
      target({ state: 'up', last_success: new Date(T0 + 40 * S), goodbye_at: new Date(T0 + 15 * S) }),
      T0 + 41 * S,
      null,
    ],
  ])('%s', (_, t, now, expected) => {
    expect(nextState(t, now, T0, 3)).toBe(expected);
  });

  it('does not call a fleet down right after the scraper (re)starts', () => {
    const old = target({ state: 'up', last_success: new Date(T0 - 3600 * S) });
    const started = T0;
    expect(nextState(old, started + 5 * S, started, 3)).toBeNull();
    expect(nextState(old, started + 31 * S, started, 3)).toBe('down');
  });

  it('counts a resumed target’s silence from its resumption, not from before its pause', () => {
    // Last success an hour before; paused; resumed (unknown) at T0 + 100 s.
    const resumed = target({ last_success: new Date(T0 - 3600 * S), state_changed_at: new Date(T0 + 100 * S) });
    expect(nextState(resumed, T0 + 120 * S, T0, 3)).toBeNull();
    expect(nextState(resumed, T0 + 131 * S, T0, 3)).toBe('down');
    expect(downSince(resumed, T0 + 200 * S, T0, 3)).toBe(T0 + 130 * S);
    // A target that is up keeps its own clock (its last change says nothing of silence).
    const up = target({ state: 'up', last_success: new Date(T0), state_changed_at: new Date(T0 + 100 * S) });
    expect(nextState(up, T0 + 31 * S + 100 * S, T0, 3)).toBe('down');
  });

  it('honours the number of intervals', () => {
    const t = target({ state: 'up', last_success: new Date(T0) });
    expect(nextState(t, T0 + 49 * S, T0, 5)).toBeNull();
    expect(nextState(t, T0 + 49 * S, T0, 3)).toBe('down');
  });
});

describe('decideTransitions', () => {
  it('says why a target went down', () => {
    const [down, up] = decideTransitions(
      [
        { ...target({ state: 'up', last_success: new Date(T0) }), id: 1, name: 'pi-1', last_error: 'connection refused' },
        { ...target({ last_success: new Date(T0 + 1) }), id: 2, name: 'pi-2', last_error: null },
      ],
      T0 + 31 * S,
      T0,
      3,
    );
    expect(down).toMatchObject({
      targetId: 1,
      from: 'up',
      to: 'down',
      message: 'pi-1 is down: no successful scrape for 3 intervals (30 s); last error: connection refused',
    });
    expect(up).toMatchObject({ targetId: 2, from: 'unknown', to: 'up', message: 'pi-2 is up' });
    // Dated when its silence passed 3 intervals, not when this pass ran.
    expect(down!.at.getTime()).toBe(T0 + 30 * S);
    expect(up!.at.getTime()).toBe(T0 + 31 * S);
  });

  it('dates a down found late (a pass after a database outage) at the moment it became down', () => {
    const [down] = decideTransitions(
      [{ ...target({ state: 'up', last_success: new Date(T0) }), id: 1, name: 'pi-1', last_error: null }],
      T0 + 600 * S,
      T0,
      3,
    );
    expect(down!.at.getTime()).toBe(T0 + 30 * S);
    expect(downSince(target({ last_success: null }), T0 + 5 * S, T0, 3)).toBe(T0 + 5 * S); // not yet due: now
  });

  it('dates a stop at the goodbye and says it was clean', () => {
    const [stopped] = decideTransitions(
      [{ ...target({ state: 'up', last_success: new Date(T0) }), id: 3, name: 'pi-3', last_error: null, goodbye_at: new Date(T0 + 7 * S) }],
      T0 + 9 * S,
      T0,
      3,
    );
    expect(stopped).toMatchObject({ targetId: 3, from: 'up', to: 'stopped', at: new Date(T0 + 7 * S) });
    expect(stopped!.message).toBe('pi-3 stopped: its exporter shut down cleanly');
  });
});

describe('mergeSeen', () => {
  const t = { ...target({ state: 'up', last_success: new Date(T0) }), id: 1, name: 'pi-1', last_error: 'HTTP 500' };
  it('takes the later last success of the database and of what this process saw', () => {
    expect(mergeSeen(t, { lastSuccessMs: T0 + 60 * S, lastError: null, goodbyeMs: null })).toMatchObject({
      last_success: new Date(T0 + 60 * S),
      last_error: null,
    });
    expect(mergeSeen(t, { lastSuccessMs: T0 - 60 * S, lastError: null, goodbyeMs: null }).last_success).toEqual(new Date(T0));
    expect(mergeSeen({ ...t, last_success: null }, { lastSuccessMs: null, lastError: 'timed out', goodbyeMs: T0 + 5 * S })).toMatchObject({
      last_success: null,
      last_error: 'timed out',
      goodbye_at: new Date(T0 + 5 * S),
    });
    expect(mergeSeen(t, undefined)).toBe(t);
  });
});
