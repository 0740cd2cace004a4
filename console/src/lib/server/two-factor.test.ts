import { beginTotpSetup, confirmTotpSetup, createSession, createUser, sessionUser, totpState } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authenticate } from './auth';
import {
  checkSecondFactor,
  matchTotp,
  mustEnrol,
  newRecoveryCodes,
  newTotpSecret,
  requiredRoles,
  setRequiredRoles,
  totpEnrolment,
} from './two-factor';

/** The code an authenticator app shows for `secret` at `ms`, computed by the library independently of the console's code. */
const codeAt = (secret: string, ms: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });
const T0 = Date.UTC(2026, 11, 4, 12, 0, 0); // a step boundary: 30 s steps

beforeAll(() => {
  vi.stubEnv('VIGIL_LOG_LEVEL', 'silent');
  vi.stubEnv('VIGIL_CONSOLE_ORIGIN', 'https://vigil.example.com');
});
afterAll(() => vi.unstubAllEnvs());

describe('TOTP codes', () => {
  it('matches the code of now and of one step either side, and gives its step', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits
    const step = T0 / 30_000;
    expect(matchTotp(secret, codeAt(secret, T0), T0)).toBe(step);
    expect(matchTotp(secret, codeAt(secret, T0 - 30_000), T0)).toBe(step - 1);
    expect(matchTotp(secret, codeAt(secret, T0 + 30_000), T0)).toBe(step + 1);
    expect(matchTotp(secret, codeAt(secret, T0 + 90_000), T0)).toBeNull(); // three steps off
    const c = codeAt(secret, T0);
    expect(matchTotp(secret, `${c.slice(0, 3)} ${c.slice(3)}`, T0)).toBe(step); // as apps show it
    for (const bad of ['', '12345', '1234567', 'abcdef', '12345x']) expect(matchTotp(secret, bad, T0)).toBeNull();
  });

  it('gives an otpauth URI and QR code naming the console and the user, and random recovery codes', async () => {
    const secret = newTotpSecret();
    const { uri, qrSvg } = await totpEnrolment(secret, 'ada');
    expect(uri).toBe(
      `otpauth://totp/Vigil%20(vigil.example.com):ada?issuer=Vigil%20(vigil.example.com)&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
    );
    expect(qrSvg).toMatch(/^<svg[^>]*viewBox/);
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
  });
});

describe.each(testDatabases())('second factors on $name', (engine) => {
  it('accepts a code once, a recovery code once, throttles guessing, and names the stage of a half sign-in', async () => {
    const { db, drop } = await engine.open();
    try {
      const ada = await createUser(db, { name: 'ada', role: 'operator', password: 'ada-password-1' });
      const secret = newTotpSecret();
      await beginTotpSetup(db, ada.id, secret);
      const [recovery] = newRecoveryCodes(1);
      expect(await confirmTotpSetup(db, ada.id, T0 / 30_000, [recovery!])).toBe(true);
      const at = T0 + 30_000;
      expect(await checkSecondFactor(db, ada, codeAt(secret, at), '192.0.2.1', at)).toEqual({ ok: true, recovery: false });
      // The same code again (a replay: phished, or read over a shoulder) is refused, though still within its time.
      expect(await checkSecondFactor(db, ada, codeAt(secret, at), '192.0.2.1', at + 5_000)).toEqual({
        ok: false,
        status: 400,
        message: 'That code was used already. Wait for the next one.',
      });
      expect(await checkSecondFactor(db, ada, recovery!.toUpperCase(), '192.0.2.1', at)).toEqual({ ok: true, recovery: true });
      expect((await checkSecondFactor(db, ada, recovery!, '192.0.2.1', at)).ok).toBe(false);
      expect((await totpState(db, ada.id)).recoveryCodesLeft).toBe(0);
      // Guessing: with the used recovery code, five wrong in all; then even the right code waits.
      for (let i = 0; i < 4; i++)
        expect(await checkSecondFactor(db, ada, '000000', '192.0.2.1', at)).toMatchObject({ ok: false, message: 'Wrong code.' });
      const next = at + 30_000;
      expect(await checkSecondFactor(db, ada, codeAt(secret, next), '192.0.2.1', next)).toMatchObject({ ok: false, status: 429 });

      // Authentication: a session waiting for its code signs nobody in, and says so.
      const limits = { maxAgeSeconds: 3600, idleSeconds: 3600 };
      const { token } = await createSession(db, ada.id, { secondFactorPending: true });
      const seen: unknown[] = [];
      expect(await authenticate(db, { session: token }, limits, (p) => seen.push(p))).toBeNull();
      expect(seen).toEqual([{ user: expect.objectContaining({ name: 'ada' }), stage: 'verify' }]);

      // A role made to use two factors: its users without them must set them up first.
      const vic = await createUser(db, { name: 'vic', role: 'viewer', password: 'vic-password-1' });
      const vicSession = (await createSession(db, vic.id)).token;
      expect(await requiredRoles(db)).toEqual([]);
      expect((await authenticate(db, { session: vicSession }, limits))?.user.name).toBe('vic');
      expect(await setRequiredRoles(db, ['viewer', 'nonsense', 'operator'])).toEqual(['operator', 'viewer']);
      expect(await mustEnrol(db, vic)).toBe(true);
      expect(await mustEnrol(db, ada)).toBe(false); // has them
      seen.length = 0;
      expect(await authenticate(db, { session: vicSession }, limits, (p) => seen.push(p))).toBeNull();
      expect(seen).toEqual([{ user: expect.objectContaining({ name: 'vic' }), stage: 'enrol' }]);
      expect(await sessionUser(db, vicSession)).not.toBeNull(); // the session stays, to set them up in
    } finally {
      await drop();
    }
  });
});
