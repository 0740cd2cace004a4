import { opened, openPty, until } from '@vigil/core/testing';
import { createDb, listTerminalSessions } from '@vigil/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, startRelay } from './relay.js';

// The built console stopped (SIGTERM, as systemd and `vigil start` stop it)
// with a terminal open: the terminal ends with a reason, and its audit row is
// written before the process exits.

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a console stopping with a terminal open', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  }, 60_000);
  afterAll(() => relay?.close());

  it('ends the terminal, saying why, and records its end before it exits', async () => {
    const c = opened(await openPty(relay.terminalUrl, relay.headers));
    await c.control('ready');
    c.type('echo before-stop-$((6*7))\r');
    await c.waitFor('before-stop-42');
    process.kill(relay.pids.console, 'SIGTERM');
    const { code, reason } = await c.closed;
    expect(code).toBe(4000);
    expect(reason).toBe('the console is stopping');
    await until('the console to exit', 15, async () => !alive(relay.pids.console));
    const db = await createDb(relay.dbUrl, { max: 1 });
    try {
      const [row] = await listTerminalSessions(db);
      expect(row).toMatchObject({ user_name: 'relay-dev', kind: 'shell', end_reason: 'the console is stopping' });
      expect(row!.ended_at).not.toBeNull();
      expect(Number(row!.bytes_out)).toBeGreaterThan(0);
      expect(Number(row!.bytes_in)).toBeGreaterThan(0);
    } finally {
      await db.destroy();
    }
  });
});
