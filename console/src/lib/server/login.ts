import type { Cookies } from '@sveltejs/kit';
import { type Account, createSession, type Database, deleteSession, totpEnabled, verifyLogin } from '@vigil/db';
import type { Kysely } from 'kysely';
import { SESSION_COOKIE } from './auth';
import { consoleConfig } from './config';
import { log } from './log';
import { LoginThrottle } from './throttle';

const throttle = new LoginThrottle();

/** What a sign-in attempt came to; `secondFactor`: the session waits for a TOTP or recovery code. */
export type LoginOutcome = { ok: true; user: Account; secondFactor: boolean } | { ok: false; status: 400 | 429; message: string };

/**
 * Checks a name and password; on success starts a new session (a fresh id,
 * whatever cookie came in) and sets its cookie: HttpOnly, SameSite=Lax,
 * Path=/, Secure when the console's origin is https. Failures are throttled
 * per account and per address (counted in the database, shared by replicas), and logged (name and address, never the password).
 * A user with two-factor sign-in gets a session that signs nobody in until
 * their code is given (/login/two-factor), unless `secondFactorGiven` (a
 * password change in a session that gave it already).
 */
export async function signIn(
  db: Kysely<Database>,
  cookies: Cookies,
  form: { name: string; password: string },
  meta: { clientAddress: string | null; userAgent: string | null },
  secondFactorGiven = false,
): Promise<LoginOutcome> {
  const name = form.name.trim().toLowerCase().slice(0, 64);
  const wait = await throttle.retryAfter(db, name, meta.clientAddress);
  if (wait > 0) {
    log().warn({ user: name, address: meta.clientAddress, retryAfterSeconds: wait }, 'sign-in throttled');
    return { ok: false, status: 429, message: `Too many failed sign-ins. Try again in ${Math.ceil(wait / 60)} min.` };
  }
  const user = name && form.password ? await verifyLogin(db, name, form.password) : null;
  if (!user) {
    await throttle.fail(db, name, meta.clientAddress);
    log().warn({ user: name, address: meta.clientAddress }, 'sign-in failed');
    return { ok: false, status: 400, message: 'Wrong name or password.' };
  }
  await throttle.succeed(db, name);
  const secondFactor = !secondFactorGiven && (await totpEnabled(db, [user.id])).has(user.id);
  await startSession(db, cookies, user.id, { ...meta, secondFactorPending: secondFactor });
  log().info(
    { user: user.name, address: meta.clientAddress },
    secondFactor ? 'password right; waiting for the second factor' : 'signed in',
  );
  return { ok: true, user, secondFactor };
}

/**
 * Starts a new session for `userId` (a fresh id, whatever cookie came in,
 * whose session ends) and sets its cookie: HttpOnly, SameSite=Lax, Path=/,
 * Secure when the console's origin is https. Every way of signing in ends here.
 */
export async function startSession(
  db: Kysely<Database>,
  cookies: Cookies,
  userId: number,
  meta: { clientAddress: string | null; userAgent: string | null; secondFactorPending?: boolean },
): Promise<void> {
  const old = cookies.get(SESSION_COOKIE);
  if (old) await deleteSession(db, old);
  const { session, origin } = consoleConfig();
  const { token } = await createSession(db, userId, meta, session);
  cookies.set(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: origin.protocol === 'https:',
    maxAge: session.maxAgeSeconds,
  });
}

/** Ends the request's session and drops its cookie. */
export async function signOut(db: Kysely<Database>, cookies: Cookies): Promise<void> {
  const token = cookies.get(SESSION_COOKIE);
  if (token) await deleteSession(db, token);
  cookies.delete(SESSION_COOKIE, { path: '/' });
}

/** Where to go after signing in: a path on this console only (never `//evil.example` or a full URL). */
export function safeNext(next: string | null): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}
