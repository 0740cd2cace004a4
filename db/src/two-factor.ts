/**
 * Two-factor sign-in data (`user_totp`, `recovery_codes`) and console
 * settings (`settings`). The codes themselves are checked by the console
 * (RFC 6238 with a TOTP library); here is what must hold across replicas: a
 * time step accepted once, a recovery code used once.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';
import { secretHash } from './sessions.js';

/** A user's two-factor state; `secret` is present only while it is on. */
export interface TotpState {
  /** The base32 secret in use, or null when two-factor sign-in is off. */
  secret: string | null;
  /** A secret being set up (shown as a QR code, not confirmed by a code yet). */
  pendingSecret: string | null;
  enabledAt: Date | null;
  /** The last 30 s time step whose code was accepted. */
  lastStep: number | null;
  /** Recovery codes not used yet. */
  recoveryCodesLeft: number;
}

/** A user's two-factor state (all null and 0 for one who never set it up). */
export async function totpState(db: Kysely<Database>, userId: number): Promise<TotpState> {
  const row = await db.selectFrom('user_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
  const { left } = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<string>().as('left'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return {
    secret: row?.secret ?? null,
    pendingSecret: row?.pending_secret ?? null,
    enabledAt: row?.enabled_at ?? null,
    lastStep: row?.last_step === null || row?.last_step === undefined ? null : Number(row.last_step),
    recoveryCodesLeft: Number(left),
  };
}

/** Whether two-factor sign-in is on for each of these users, by id. */
export async function totpEnabled(db: Kysely<Database>, userIds: readonly number[]): Promise<Set<number>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('user_totp')
    .select('user_id')
    .where('user_id', 'in', [...userIds])
    .where('secret', 'is not', null)
    .execute();
  return new Set(rows.map((r) => r.user_id));
}

/** Keeps a new secret as being set up (replacing one being set up before); the secret in use, if any, stays. */
export async function beginTotpSetup(db: Kysely<Database>, userId: number, secret: string): Promise<void> {
  await db
    .insertInto('user_totp')
    .values({ user_id: userId, pending_secret: secret })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ pending_secret: secret }))
    .execute();
}

/**
 * Turns two-factor sign-in on with the secret being set up, once a code from
 * it was accepted at time step `step`, and replaces the recovery codes with
 * `recoveryCodes` (kept as SHA-256). @returns false when no secret was being set up
 */
export async function confirmTotpSetup(
  db: Kysely<Database>,
  userId: number,
  step: number,
  recoveryCodes: readonly string[],
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const r = await tx
      .updateTable('user_totp')
      .set({ secret: sql`pending_secret`, pending_secret: null, enabled_at: new Date(), last_step: step })
      .where('user_id', '=', userId)
      .where('pending_secret', 'is not', null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return false;
    await replaceRecoveryCodes(tx, userId, recoveryCodes);
    return true;
  });
}

/** Replaces a user's recovery codes (kept as SHA-256; the old ones stop working). */
export async function replaceRecoveryCodes(db: Kysely<Database>, userId: number, codes: readonly string[]): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (codes.length)
    await db
      .insertInto('recovery_codes')
      .values(codes.map((c) => ({ user_id: userId, code_hash: secretHash(normalizeRecoveryCode(c)) })))
      .execute();
}

/** Turns two-factor sign-in off for a user: the secret and the recovery codes are deleted. @returns whether it was on */
export async function disableTotp(db: Kysely<Database>, userId: number): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const r = await tx.deleteFrom('user_totp').where('user_id', '=', userId).returning('secret').executeTakeFirst();
    await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    return r?.secret != null;
  });
}

/**
 * Accepts a code's time step if it is later than the last one accepted, so a
 * code seen by someone else (over a shoulder, a phishing page) is good only
 * once, on any replica. @returns false for a step already used or older
 */
export async function acceptTotpStep(db: Kysely<Database>, userId: number, step: number): Promise<boolean> {
  const r = await db
    .updateTable('user_totp')
    .set({ last_step: step })
    .where('user_id', '=', userId)
    .where('secret', 'is not', null)
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', String(step))]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A recovery code as typed (any case, spaces or dashes) in the form it is hashed in. */
export function normalizeRecoveryCode(code: string): string {
  let out = '';
  for (const ch of code.slice(0, 64).toLowerCase()) if (ch !== '-' && ch !== ' ') out += ch;
  return out;
}

/** Uses up one of a user's recovery codes. @returns false for a code that is not theirs or was used */
export async function useRecoveryCode(db: Kysely<Database>, userId: number, code: string): Promise<boolean> {
  const r = await db
    .updateTable('recovery_codes')
    .set({ used_at: new Date() })
    .where('user_id', '=', userId)
    .where('code_hash', '=', secretHash(normalizeRecoveryCode(code)))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A console setting's value, or `fallback` when it was never set. */
export async function getSetting<T>(db: Kysely<Database>, key: string, fallback: T): Promise<T> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return row ? (row.value as T) : fallback;
}

/** Sets a console setting (a JSON value). */
export async function setSetting(db: Kysely<Database>, key: string, value: unknown): Promise<void> {
  const json = JSON.stringify(value);
  await db
    .insertInto('settings')
    .values({ key, value: json })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: json, updated_at: new Date() }))
    .execute();
}
