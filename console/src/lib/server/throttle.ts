/**
 * Failed sign-ins counted per account and per client address over a sliding
 * window: past the limit, further attempts are refused until the oldest
 * failure leaves the window (no answer about the password at all, so guessing
 * stops). Kept in the console's memory: one console process serves a fleet,
 * and a restart forgetting the counts only gives an attacker one more window.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    /** Failures allowed per account in the window. */
    readonly perAccount = 5,
    /** Failures allowed per client address in the window (a NAT may hide several people). */
    readonly perAddress = 20,
    readonly windowSeconds = 900,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `account` from `address` may try again; 0 when it may now. */
  retryAfter(account: string, address: string | null): number {
    const t = this.now();
    const wait = (key: string, limit: number) => {
      const times = this.#recent(key, t);
      return times.length < limit ? 0 : Math.ceil((times[times.length - limit]! + this.windowSeconds * 1000 - t) / 1000);
    };
    return Math.max(wait(`u:${account}`, this.perAccount), address ? wait(`a:${address}`, this.perAddress) : 0);
  }

  /** Records a failed attempt. */
  fail(account: string, address: string | null): void {
    const t = this.now();
    for (const key of address ? [`u:${account}`, `a:${address}`] : [`u:${account}`]) {
      const times = this.#recent(key, t);
      times.push(t);
      this.#failures.set(key, times.slice(-Math.max(this.perAccount, this.perAddress)));
    }
    // Bounded: a flood of made-up names cannot grow this without end.
    if (this.#failures.size > 10_000)
      for (const [k, v] of this.#failures) if (this.#recent(k, t).length === 0 || v.length === 0) this.#failures.delete(k);
  }

  /** Forgets an account's failures after it signed in. */
  succeed(account: string): void {
    this.#failures.delete(`u:${account}`);
  }

  #recent(key: string, t: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((x) => x > t - this.windowSeconds * 1000);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }
}
