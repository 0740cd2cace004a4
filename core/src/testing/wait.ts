/** Polls `probe` every 100 ms until it returns something truthy; throws after `seconds`, naming `what`. */
export async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
