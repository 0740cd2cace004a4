import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptTotpStep,
  beginTotpSetup,
  completeSecondFactor,
  confirmTotpSetup,
  createSession,
  createUser,
  type Database,
  disableTotp,
  getSetting,
  normalizeRecoveryCode,
  sessionUser,
  setSetting,
  totpEnabled,
  totpState,
  useRecoveryCode,
} from './index.js';
import { testDatabases } from './testing.js';

describe.each(testDatabases())('two-factor sign-in data on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let ada: number;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    ada = (await createUser(db, { name: 'ada', role: 'admin', password: 'ada-password-1' })).id;
  });
  afterAll(() => drop());

  it('sets up a secret only once a code confirms it, and accepts each time step once', async () => {
    expect(await totpState(db, ada)).toEqual({ secret: null, pendingSecret: null, enabledAt: null, lastStep: null, recoveryCodesLeft: 0 });
    expect(await confirmTotpSetup(db, ada, 100, ['x'])).toBe(false); // nothing being set up
    await beginTotpSetup(db, ada, 'FIRSTSECRET');
    await beginTotpSetup(db, ada, 'SECONDSECRET'); // set up again: the newer one counts
    expect((await totpState(db, ada)).secret).toBeNull();
    expect(await acceptTotpStep(db, ada, 5)).toBe(false); // not on yet
    expect(await confirmTotpSetup(db, ada, 1000, ['abcd-efgh-ij', 'KLMN EFGH IJ'])).toBe(true);
    const on = await totpState(db, ada);
    expect(on).toMatchObject({ secret: 'SECONDSECRET', pendingSecret: null, lastStep: 1000, recoveryCodesLeft: 2 });
    expect(on.enabledAt).toBeInstanceOf(Date);
    expect(await totpEnabled(db, [ada, 999])).toEqual(new Set([ada]));
    // The step of the code that confirmed it, or an older one, is refused: a replayed code.
    expect(await acceptTotpStep(db, ada, 1000)).toBe(false);
    expect(await acceptTotpStep(db, ada, 999)).toBe(false);
    expect(await acceptTotpStep(db, ada, 1001)).toBe(true);
    // Two replicas given the same code at once: one wins.
    const both = await Promise.all([acceptTotpStep(db, ada, 1002), acceptTotpStep(db, ada, 1002)]);
    expect(both.filter(Boolean)).toHaveLength(1);
  });

  it('uses each recovery code once, however it is typed', async () => {
    expect(normalizeRecoveryCode('ABCD-efgh ij')).toBe('abcdefghij');
    expect(await useRecoveryCode(db, ada, 'ABCD EFGH-IJ')).toBe(true);
    expect(await useRecoveryCode(db, ada, 'abcd-efgh-ij')).toBe(false);
    expect(await useRecoveryCode(db, ada, 'not-a-code')).toBe(false);
    expect((await totpState(db, ada)).recoveryCodesLeft).toBe(1);
    const bob = (await createUser(db, { name: 'bob', role: 'viewer', password: 'bob-password-1' })).id;
    expect(await useRecoveryCode(db, bob, 'klmn-efgh-ij')).toBe(false); // ada's, not bob's
  });

  it('turns it off with its codes, and says whether it was on', async () => {
    expect(await disableTotp(db, ada)).toBe(true);
    expect(await totpState(db, ada)).toMatchObject({ secret: null, recoveryCodesLeft: 0 });
    expect(await disableTotp(db, ada)).toBe(false);
  });

  it('keeps a session waiting for its second factor until it is given', async () => {
    const { token } = await createSession(db, ada, { secondFactorPending: true });
    expect((await sessionUser(db, token))?.session.second_factor_pending).toBe(true);
    expect(await completeSecondFactor(db, token)).toBe(true);
    expect(await completeSecondFactor(db, token)).toBe(false);
    expect((await sessionUser(db, token))?.session.second_factor_pending).toBe(false);
  });

  it('keeps settings as JSON, with a fallback', async () => {
    expect(await getSetting(db, 'two_factor_roles', ['x'])).toEqual(['x']);
    await setSetting(db, 'two_factor_roles', ['admin']);
    await setSetting(db, 'two_factor_roles', ['admin', 'operator']);
    expect(await getSetting(db, 'two_factor_roles', [])).toEqual(['admin', 'operator']);
  });
});
