import { clearLoginFailures, type Database, loginFailureWait, recordLoginFailure } from '@vigil/db';
import type { Kysely } from 'kysely';

/**
 * Failed sign-ins counted per account and per client address over a sliding
 * window: past the limit, further attempts are refused until the oldest
 * failure leaves the window (no answer about the password at all, so guessing
 * stops). Kept in the database (`login_failures`, by its clock), so console
 * replicas behind one load balancer share the counts: a guesser cannot get
 * five tries per replica.
 */
export class LoginThrottle {
  constructor(
    /** Failures allowed per account in the window. */
    readonly perAccount = 5,
    /** Failures allowed per client address in the window (a NAT may hide several people). */
    readonly perAddress = 20,
    readonly windowSeconds = 900,
  ) {}

  /** Seconds until `account` from `address` may try again; 0 when it may now. */
  async retryAfter(db: Kysely<Database>, account: string, address: string | null): Promise<number> {
    const [byAccount, byAddress] = await Promise.all([
      loginFailureWait(db, `u:${account}`, this.perAccount, this.windowSeconds),
      address ? loginFailureWait(db, `a:${address}`, this.perAddress, this.windowSeconds) : 0,
    ]);
    return Math.max(byAccount, byAddress);
  }

  /** Records a failed attempt. */
  async fail(db: Kysely<Database>, account: string, address: string | null): Promise<void> {
    await recordLoginFailure(db, address ? [`u:${account}`, `a:${address}`] : [`u:${account}`], this.windowSeconds);
  }

  /** Forgets an account's failures after it signed in. */
  async succeed(db: Kysely<Database>, account: string): Promise<void> {
    await clearLoginFailures(db, `u:${account}`);
  }
}
