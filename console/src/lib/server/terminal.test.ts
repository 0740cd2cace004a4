import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@vigil/core/log';
import { generateTicketKeys, importTicketPrivateKey } from '@vigil/core/pty';
import { freePort, opened, openPty, type PtyClient, REPO, type Refusal, until } from '@vigil/core/testing';
import { addTarget, createSession, createUser, type Database, deleteSession, listTerminalSessions, setRole } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endStreamsOf } from './live';
import { HIGH_WATER_BYTES, ptyUrlOf, TerminalHub } from './terminal';

// The relay in this process (what coverage sees), against a real exporter
// process with its PTY socket and a real database.

describe.each(testDatabases())('terminals through the console ($name)', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let exporter: ChildProcess;
  let hub: TerminalHub;
  let server: http.Server;
  let base: string;
  let origin: string;
  let targetId: number;
  let wrongId: number;
  const recordDir = mkdtempSync(path.join(tmpdir(), 'vigil-casts-'));
  const users = {} as Record<'developer' | 'viewer' | 'other', { id: number; cookie: string }>;

  const open = (query: string, who: keyof typeof users = 'developer', headers: Record<string, string> = {}) =>
    openPty(`${base}/ws/terminal/${targetId}${query}`, { origin, cookie: `vigil_session=${users[who].cookie}`, ...headers });
  async function shell(query = '?cols=80&rows=24'): Promise<{ c: PtyClient; session: string; offset: number }> {
    const c = opened(await open(query));
    const ready = await c.control('ready');
    return { c, session: ready.session!, offset: ready.offset! };
  }
  /** Sends what xterm.js would: an ack of every byte drawn. */
  const ackAll = (c: PtyClient) => {
    let acked = 0;
    const t = setInterval(() => {
      const n = c.bytes() - acked;
      if (n > 0 && c.ws.readyState === c.ws.OPEN) {
        c.send({ type: 'ack', bytes: n });
        acked += n;
      }
    }, 20);
    return () => clearInterval(t);
  };

  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    const keys = await generateTicketKeys();
    const port = await freePort();
    exporter = spawn(process.execPath, [path.join(REPO, 'exporter/bin/vigil-exporter.js')], {
      env: {
        PATH: process.env.PATH,
        VIGIL_EXPORTER_LISTEN: `127.0.0.1:${port}`,
        VIGIL_CONSOLE_PUBLIC_KEY: keys.publicKeyPem,
        VIGIL_EXPORTER_ID: 'term-host',
        VIGIL_PTY_ALLOW_ROOT: '1',
        VIGIL_PTY_SHELL: '/bin/sh',
        VIGIL_DISABLED_COLLECTORS: 'containers',
        VIGIL_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    await until('the exporter to answer', 30, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok);
    targetId = (await addTarget(db, { name: 'term-host', url: `http://127.0.0.1:${port}/metrics` })).id;
    wrongId = (await addTarget(db, { name: 'not-its-id', url: `http://127.0.0.1:${port}/metrics` })).id;
    for (const [name, role] of [
      ['developer', 'developer'],
      ['viewer', 'viewer'],
      ['other', 'operator'],
    ] as const) {
      const u = await createUser(db, { name: `t-${name}`, role, password: 'a-long-password-123' });
      users[name] = { id: u.id, cookie: (await createSession(db, u.id)).token };
    }
    server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const consolePort = (server.address() as AddressInfo).port;
    origin = `http://localhost:${consolePort}`;
    base = `ws://127.0.0.1:${consolePort}`;
    hub = new TerminalHub({
      db: async () => db,
      origin: new URL(origin),
      session: { maxAgeSeconds: 3600, idleSeconds: 3600 },
      key: await importTicketPrivateKey(keys.privateKeyPem),
      graceSeconds: 2,
      proxyHops: 0,
      log: silentLogger(),
      recordDir,
    });
    server.on('upgrade', (req, socket, head) => void hub.handleUpgrade(req, socket, head));
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    server?.close();
    exporter?.kill();
    await drop?.();
    rmSync(recordDir, { recursive: true, force: true });
  });

  it('relays a shell: echo, resize, and the exit code in its terminal_sessions row', async () => {
    const { c } = await shell('?cols=100&rows=30');
    c.type('echo relay-$((20+22))\r');
    await c.waitFor('relay-42');
    c.type('stty size\r');
    await c.waitFor('30 100');
    c.send({ type: 'resize', cols: 120, rows: 40 });
    const at = c.text().length;
    c.type('stty size\r');
    await c.waitFor('40 120', at);
    c.type('exit 7\r');
    expect(await c.control('exit')).toEqual({ type: 'exit', code: 7, signal: null });
    expect((await c.closed).code).toBe(1000);
    const row = await until('the session row to be closed', 10, async () => {
      const [r] = await listTerminalSessions(db, { targetId });
      return r?.ended_at ? r : undefined;
    });
    expect(row).toMatchObject({
      user_name: 't-developer',
      target_name: 'term-host',
      kind: 'shell',
      exit_code: 7,
      origin,
      client_ip: '127.0.0.1',
    });
    expect(Number(row.bytes_in)).toBeGreaterThan(20);
    expect(Number(row.bytes_out)).toBeGreaterThan(20);
    expect(row.end_reason).toBe('exited with code 7');
  });

  it('passes on a resize sent before the host was reached', async () => {
    // Sent as soon as the browser's socket opens: the console is still opening the exporter's.
    const c = opened(await open('?cols=80&rows=24'));
    c.send({ type: 'resize', cols: 111, rows: 33 });
    await c.control('ready');
    c.type('stty size\r');
    await c.waitFor('33 111');
    c.ws.close();
  });

  it('records the session as asciicast v2: output and resizes, never what was typed unseen', async () => {
    const { c } = await shell('?cols=90&rows=20');
    c.type('stty -echo; echo prompt-$((0+1)); read -r SECRET; stty echo; echo done-$((1+1))\r');
    // Typed once the echo is off, as at a password prompt.
    await c.waitFor('prompt-1\r\n');
    c.type('hunter2-typed-unseen\r');
    await c.waitFor('done-2');
    c.send({ type: 'resize', cols: 100, rows: 30 });
    c.type('exit\r');
    await c.closed;
    const row = await until('the recording to be noted', 10, async () => {
      const [r] = await listTerminalSessions(db, { targetId, limit: 1 });
      return r?.recording ? r : undefined;
    });
    expect(row.recording).toBe(path.join(recordDir, `${row.id}.cast`));
    const lines = readFileSync(row.recording!, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ version: 2, width: 90, height: 20, title: 't-developer@term-host' });
    const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    expect(events.map((e) => e[1]).every((k) => k === 'o' || k === 'r')).toBe(true);
    expect(
      events
        .filter((e) => e[1] === 'o')
        .map((e) => e[2])
        .join(''),
    ).toContain('done-2');
    expect(events).toContainEqual([expect.any(Number), 'r', '100x30']);
    expect(lines.join('\n')).not.toContain('hunter2-typed-unseen');
    const times = events.map((e) => e[0]);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('keeps the shell across a dropped connection: re-attached, the same $$, nothing missed or repeated', async () => {
    const { c, session } = await shell();
    c.type('echo pid=$$=\r');
    const pid = (await c.waitFor(/pid=\d+=/)).slice(4, -1);
    const drawn = c.bytes();
    c.ws.terminate();
    await c.closed;
    const again = opened(await open(`?attach=${session}&offset=${drawn}`));
    const ready = await again.control('ready');
    expect(ready).toMatchObject({ session, resumed: true, offset: drawn });
    again.type('echo pid=$$=\r');
    await again.waitFor(`pid=${pid}=`);
    // what followed the offset only: the second answer, not the first again
    expect(again.text().split(`pid=${pid}=`).length - 1).toBe(1);
    again.type('exit\r');
    await again.closed;
  });

  it('replays the kept output to a page that lost it (offset 0)', async () => {
    const { c, session } = await shell();
    c.type('echo first-$((1+1))\r');
    await c.waitFor('first-2');
    c.ws.terminate();
    await c.closed;
    const again = opened(await open(`?attach=${session}&offset=0`));
    expect((await again.control('ready')).offset).toBe(0);
    await again.waitFor('first-2');
    again.type('exit\r');
    await again.closed;
  });

  it('ends a session whose browser does not come back within the grace period', async () => {
    const { c, session } = await shell();
    c.ws.terminate();
    await c.closed;
    const row = await until('the grace period to end it', 10, async () => {
      const [r] = await listTerminalSessions(db, { targetId, limit: 1 });
      return r?.ended_at ? r : undefined;
    });
    expect(row.end_reason).toMatch(/did not come back within 2 s/);
    const late = (await open(`?attach=${session}&offset=0`)) as Refusal;
    expect(late.status).toBe(410);
  });

  it('refuses a foreign Origin, no Origin, no cookie and a viewer, before any host is reached', async () => {
    const before = (await listTerminalSessions(db, { limit: 1000 })).length;
    const foreign = (await open('', 'developer', { origin: 'https://evil.example' })) as Refusal;
    expect(foreign.status).toBe(403);
    const none = (await openPty(`${base}/ws/terminal/${targetId}`, { cookie: `vigil_session=${users.developer.cookie}` })) as Refusal;
    expect(none.status).toBe(403);
    const anonymous = (await openPty(`${base}/ws/terminal/${targetId}`, { origin })) as Refusal;
    expect(anonymous.status).toBe(401);
    const viewer = (await open('', 'viewer')) as Refusal;
    expect(viewer.status).toBe(403);
    expect(viewer.body).toMatch(/developer role/);
    const forged = (await open('', 'developer', { cookie: 'vigil_session=forged' })) as Refusal;
    expect(forged.status).toBe(401);
    const elsewhere = (await openPty(`${base}/ws/other`, { origin })) as Refusal;
    expect(elsewhere.status).toBe(404);
    expect((await listTerminalSessions(db, { limit: 1000 })).length).toBe(before);
  });

  it("refuses to re-attach to another user's session", async () => {
    const { c, session } = await shell();
    const theirs = (await open(`?attach=${session}&offset=0`, 'other')) as Refusal;
    expect(theirs.status).toBe(410);
    c.type('exit\r');
    await c.closed;
  });

  it("says why when the exporter refuses the ticket (a target named other than the exporter's id)", async () => {
    const c = opened(await openPty(`${base}/ws/terminal/${wrongId}`, { origin, cookie: `vigil_session=${users.developer.cookie}` }));
    const err = await c.control('error');
    expect(err.message).toMatch(/not-its-id refused the terminal: the ticket is for another exporter/);
    // …and what to change, which only the console can say.
    expect(err.message).toContain('set VIGIL_EXPORTER_ID=not-its-id on its exporter, or rename the target');
    expect((await c.closed).code).toBe(4003);
  });

  it('ends terminals on sign-out, and when the role is taken away', async () => {
    const u = await createUser(db, { name: 't-leaver', role: 'developer', password: 'a-long-password-123' });
    const { token } = await createSession(db, u.id);
    const connect = async () => {
      const c = opened(await openPty(`${base}/ws/terminal/${targetId}`, { origin, cookie: `vigil_session=${token}` }));
      await c.control('ready');
      return c;
    };
    const a = await connect();
    await setRole(db, 't-leaver', 'viewer');
    endStreamsOf(u.id);
    expect((await a.closed).reason).toMatch(/no longer allowed terminals/);
    await setRole(db, 't-leaver', 'developer');
    const b = await connect();
    await deleteSession(db, token);
    endStreamsOf(u.id);
    expect(await b.closed).toEqual({ code: 4000, reason: 'signed out' });
  });

  it('stops reading the host while the browser is behind, and reads again once it acknowledges', async () => {
    const { c } = await shell();
    c.type('yes flood\r');
    // The mark counts what was sent plus what is held for the browser (up to a 64 KiB frame).
    await until('the unacknowledged output to reach the high-water mark', 20, async () => c.bytes() >= HIGH_WATER_BYTES - 64 * 1024);
    // Held: nothing past the mark (plus the frame in flight) while nothing is acknowledged.
    await new Promise((r) => setTimeout(r, 500));
    const held = c.bytes();
    expect(held).toBeLessThan(HIGH_WATER_BYTES + 256 * 1024);
    const stop = ackAll(c);
    await until('more output after acknowledging', 20, async () => c.bytes() > held + 4 * HIGH_WATER_BYTES);
    stop();
    c.ws.close();
  });

  it('sends the output it holds for a browser that is behind before the exit', async () => {
    const { c } = await shell();
    // About 190 KB in many small writes, and nothing acknowledged: past 64 KiB
    // unacknowledged the console holds output (TerminalFeed); the exit must
    // not overtake it, and none of it may be lost.
    c.type('i=0; while [ $i -lt 4000 ]; do echo "line-$i-................................"; i=$((i+1)); done; exit 7\r');
    const exit = await c.control('exit');
    expect(exit).toMatchObject({ code: 7 });
    const offset = c.controlOffsets[c.controls.indexOf(exit)]!;
    await c.closed;
    expect(c.bytes()).toBe(offset);
    // Every byte the console had from the exporter (its row's bytes_out) reached
    // the browser before the exit, down to the last line the shell wrote.
    const row = await until('the session row to be closed', 10, async () => {
      const [r] = await listTerminalSessions(db, { targetId });
      return r?.ended_at && r.exit_code === 7 ? r : undefined;
    });
    expect(offset).toBe(Number(row.bytes_out));
    expect(c.text()).toContain('line-3999-');
    expect(offset).toBeGreaterThan(2 * 64 * 1024);
    expect(Math.max(...c.frames)).toBeLessThanOrEqual(64 * 1024);
  });

  it('derives a PTY socket from the metrics URL, without its credentials', () => {
    expect(ptyUrlOf({ url: 'https://u:p@h.lan:9110/metrics?x=1', pty_url: null })).toBe('wss://h.lan:9110/pty');
    expect(ptyUrlOf({ url: 'http://h:9110/metrics', pty_url: 'ws://h:9200/pty' })).toBe('ws://h:9200/pty');
  });
});
