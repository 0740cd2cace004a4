/**
 * Two-factor sign-in: TOTP codes (RFC 6238: 30 s steps, 6 digits, SHA-1, as
 * every authenticator app reads an `otpauth://` QR code) checked with the
 * otpauth library, single-use recovery codes, and the admin's setting of
 * which roles must use it. What must hold across replicas (a step accepted
 * once, a recovery code used once) is in @vigil/db.
 */
import { randomBytes } from 'node:crypto';
import {
  type Account,
  acceptTotpStep,
  type Database,
  getSetting,
  hasIdentity,
  ROLES,
  type Role,
  setSetting,
  totpEnabled,
  totpState,
  useRecoveryCode,
} from '@vigil/db';
import type { Kysely } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { consoleConfig } from './config';
import { log } from './log';
import { LoginThrottle } from './throttle';

/** The setting naming the roles that must sign in with two factors. */
export const TWO_FACTOR_ROLES = 'two_factor_roles';
const PERIOD = 30;
/** Codes from one step before or after now are accepted too (clocks drift; typing takes time). */
const WINDOW = 1;
const throttle = new LoginThrottle();

function totp(secret: string, label = 'vigil'): TOTP {
  const host = consoleConfig().origin.host;
  return new TOTP({ issuer: `Vigil (${host})`, label, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: Secret.fromBase32(secret) });
}

/** A new random TOTP secret (160 bits, as RFC 4226 recommends), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/…` URI an authenticator app reads, and the same as an SVG QR code. */
export async function totpEnrolment(secret: string, userName: string): Promise<{ uri: string; qrSvg: string }> {
  const uri = totp(secret, userName).toString();
  return { uri, qrSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }) };
}

/**
 * The time step (Unix seconds / 30) of a 6-digit code that `secret` gives at
 * `now` or one step either side; null for anything else (not six digits, wrong).
 */
export function matchTotp(secret: string, code: string, now = Date.now()): number | null {
  const digits = code.replaceAll(' ', '');
  if (digits.length !== 6 || !/^\d{6}$/.test(digits)) return null;
  const delta = totp(secret).validate({ token: digits, timestamp: now, window: WINDOW });
  return delta === null ? null : Math.floor(now / 1000 / PERIOD) + delta;
}

/** Ten recovery codes, each 50 random bits as `xxxxx-xxxxx` (base32, lowercase). */
export function newRecoveryCodes(n = 10): string[] {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from({ length: n }, () => {
    const bytes = randomBytes(10);
    let s = '';
    for (const b of bytes) s += alphabet[b & 31];
    return `${s.slice(0, 5)}-${s.slice(5)}`;
  });
}

let cached: { db: Kysely<Database>; roles: Role[]; at: number } | null = null;

/** The roles that must use two factors (an admin's setting; none by default). Read at most every 5 s. */
export async function requiredRoles(db: Kysely<Database>): Promise<Role[]> {
  if (cached && cached.db === db && Date.now() - cached.at < 5_000) return cached.roles;
  const raw = await getSetting<unknown>(db, TWO_FACTOR_ROLES, []);
  const roles = Array.isArray(raw) ? ROLES.filter((r) => raw.includes(r)) : [];
  cached = { db, roles, at: Date.now() };
  return roles;
}

/** Sets the roles that must use two factors. @returns the roles as stored (known ones only, in order) */
export async function setRequiredRoles(db: Kysely<Database>, roles: readonly string[]): Promise<Role[]> {
  const known = ROLES.filter((r) => roles.includes(r));
  await setSetting(db, TWO_FACTOR_ROLES, known);
  cached = null;
  return known;
}

/** Whether `user` must set up two factors before anything else: their role needs it, they have none, and they do not sign in through an OpenID provider. */
export async function mustEnrol(db: Kysely<Database>, user: Pick<Account, 'id' | 'role'>): Promise<boolean> {
  const roles = await requiredRoles(db);
  if (!roles.includes(user.role)) return false;
  if ((await totpEnabled(db, [user.id])).has(user.id)) return false;
  // Users of an OpenID provider give their second factor there.
  return !(await hasIdentity(db, user.id));
}

/** What checking a second factor came to. */
export type SecondFactorOutcome = { ok: true; recovery: boolean } | { ok: false; status: 400 | 429; message: string };

/**
 * Checks a user's second factor: a 6-digit TOTP code (good once: a replayed
 * one is refused) or one of their recovery codes (used up). Failures count
 * towards the same throttle as passwords (per account and address, in the
 * database), so a guesser of codes is stopped as one of passwords is.
 */
export async function checkSecondFactor(
  db: Kysely<Database>,
  user: Pick<Account, 'id' | 'name'>,
  code: string,
  clientAddress: string | null,
  now = Date.now(),
): Promise<SecondFactorOutcome> {
  const wait = await throttle.retryAfter(db, user.name, clientAddress);
  if (wait > 0) return { ok: false, status: 429, message: `Too many wrong codes. Try again in ${Math.ceil(wait / 60)} min.` };
  const state = await totpState(db, user.id);
  const typed = code.trim().slice(0, 64);
  if (state.secret && /^\d{3} ?\d{3}$/.test(typed)) {
    const step = matchTotp(state.secret, typed, now);
    if (step !== null) {
      if (await acceptTotpStep(db, user.id, step)) {
        await throttle.succeed(db, user.name);
        return { ok: true, recovery: false };
      }
      log().warn({ user: user.name, address: clientAddress }, 'two-factor code replayed');
      return { ok: false, status: 400, message: 'That code was used already. Wait for the next one.' };
    }
  } else if (typed.length >= 10 && (await useRecoveryCode(db, user.id, typed))) {
    await throttle.succeed(db, user.name);
    log().info({ user: user.name }, 'signed in with a recovery code');
    return { ok: true, recovery: true };
  }
  await throttle.fail(db, user.name, clientAddress);
  log().warn({ user: user.name, address: clientAddress }, 'two-factor code wrong');
  return { ok: false, status: 400, message: 'Wrong code.' };
}
