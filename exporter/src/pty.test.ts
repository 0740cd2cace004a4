import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import {
  generateTicketKeys,
  importTicketPrivateKey,
  mintTicket,
  type TicketGrant,
  type TicketKey,
  type TicketKeyPair,
} from '@vigil/core/pty';
import { type CapturedLog, captureLog, opened, openPty, type PtyClient, type Refusal, until } from '@vigil/core/testing';
import * as jose from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadExporterConfig } from './config.js';
import { parsePasswd } from './passwd.js';
import { type RunningExporter, startExporter } from './server.js';

const TOKEN = 'test-token-0123456789abcdef';
let keys: TicketKeyPair;
let signer: TicketKey;
let otherSigner: TicketKey;
const running: RunningExporter[] = [];

beforeAll(async () => {
  keys = await generateTicketKeys();
  signer = await importTicketPrivateKey(keys.privateKeyPem);
  otherSigner = await importTicketPrivateKey((await generateTicketKeys()).privateKeyPem);
});
afterEach(async () => {
  for (const r of running.splice(0)) await r.close();
});

async function start(
  env: Record<string, string> = {},
  log: CapturedLog = captureLog(),
): Promise<{ exporter: RunningExporter; log: CapturedLog; ws: string }> {
  const exporter = await startExporter(
    loadExporterConfig({
      VIGIL_EXPORTER_LISTEN: '127.0.0.1:0',
      VIGIL_EXPORTER_TOKEN: TOKEN,
      VIGIL_CONSOLE_PUBLIC_KEY: keys.publicKeyPem,
      VIGIL_EXPORTER_ID: 'web-1',
      VIGIL_PTY_ALLOW_ROOT: '1',
      VIGIL_PTY_SHELL: '/bin/sh',
      VIGIL_DISABLED_COLLECTORS: 'containers',
      ...env,
    }),
    log.log,
  );
  running.push(exporter);
  return { exporter, log, ws: `${exporter.url.replace('http', 'ws')}/pty` };
}

const ticket = (grant: TicketGrant = { kind: 'shell', cols: 80, rows: 24 }, audience = 'web-1') =>
  mintTicket(signer, { audience, subject: 'alice', grant });
const bearer = async (grant?: TicketGrant) => ({ authorization: `Bearer ${await ticket(grant)}` });

async function shell(ws: string, grant?: TicketGrant, maxText?: number): Promise<PtyClient> {
  const c = opened(await openPty(ws, await bearer(grant), { maxText }));
  await c.control('ready');
  return c;
}

describe('the PTY socket refuses every forged ticket before a shell exists', () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => Promise<Record<string, string>>, string][] = [
    ['none', async () => ({}), 'ticket_missing'],
    ['the exporter token instead', async () => ({ authorization: `Bearer ${TOKEN}` }), 'ticket_malformed'],
    [
      'a bad signature',
      async () => {
        const [h, b, s] = (await ticket()).split('.');
        return { authorization: `Bearer ${h}.${b}.${s!.startsWith('A') ? 'B' : 'A'}${s!.slice(1)}` };
      },
      'ticket_signature',
    ],
    ["another host's", async () => ({ authorization: `Bearer ${await ticket(undefined, 'db-1')}` }), 'ticket_audience'],
    [
      'expired',
      async () => ({
        authorization: `Bearer ${await new jose.SignJWT({ kind: 'shell' })
          .setProtectedHeader({ alg: 'EdDSA' })
          .setAudience('web-1')
          .setSubject('alice')
          .setJti('old')
          .setIssuedAt(now() - 120)
          .setExpirationTime(now() - 60)
          .sign(signer)}`,
      }),
      'ticket_expired',
    ],
    [
      'signed by another key',
      async () => ({
        authorization: `Bearer ${await mintTicket(otherSigner, { audience: 'web-1', subject: 'alice', grant: { kind: 'shell' } })}`,
      }),
      'ticket_signature',
    ],
    [
      'alg: none',
      async () => ({
        authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ aud: 'web-1', sub: 'alice', jti: 'x', exp: now() + 30, kind: 'shell' })}.`,
      }),
      'ticket_algorithm',
    ],
  ];

  it.each(cases)('%s → 401, logged with its reason, no session', async (_name, headers, code) => {
    const { ws, exporter, log } = await start();
    const h = await headers();
    const r = (await openPty(ws, h)) as Refusal;
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).error.code).toBe(code);
    const line = log.lines.find((l) => l.includes('pty ticket refused'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).reason).toBe(code.replace('ticket_', ''));
    // never the ticket, nor any part of it
    if (h.authorization)
      for (const part of h.authorization.slice(7).split('.')) if (part.length > 8) expect(log.lines.join('')).not.toContain(part);
    expect(log.lines.some((l) => l.includes('pty session started'))).toBe(false);
    const health = await (await fetch(`${exporter.url}/health`)).json();
    expect(health).toEqual({ status: 'ok', pty: { sessions: 0 } });
  });

  it('a replayed ticket: the first use opens a shell, the second is refused', async () => {
    const { ws } = await start();
    const headers = await bearer();
    const c = opened(await openPty(ws, headers));
    await c.control('ready');
    const again = (await openPty(ws, headers)) as Refusal;
    expect(again.status).toBe(401);
    expect(JSON.parse(again.body).error.code).toBe('ticket_replayed');
    c.ws.close();
  });

  it('/pty is closed unless VIGIL_CONSOLE_PUBLIC_KEY is set', async () => {
    const { exporter } = await start({ VIGIL_CONSOLE_PUBLIC_KEY: '' });
    const r = await openPty(`${exporter.url.replace('http', 'ws')}/pty`, await bearer()).catch((e: Error) => e);
    expect(r instanceof Error || ('status' in r && r.status >= 400)).toBe(true);
    expect(await (await fetch(`${exporter.url}/health`)).json()).toEqual({ status: 'ok' });
  });
});

describe('a shell through the PTY socket', () => {
  it('runs the shell, echoes, resizes, counts itself, and reports its exit code', async () => {
    const { ws, exporter } = await start();
    const c = await shell(ws, { kind: 'shell', cols: 100, rows: 30 });
    const marker = `hello-${process.pid}`;
    c.type(`echo ${marker}-$((6*7))\r`);
    await c.waitFor(`${marker}-42`);
    c.type('stty size\r');
    await c.waitFor('30 100');
    c.send({ type: 'resize', cols: 132, rows: 43 });
    const at = c.text().length;
    c.type('stty size\r');
    await c.waitFor('43 132', at);
    const health = (await (await fetch(`${exporter.url}/health`)).json()) as { pty: { sessions: number } };
    expect(health.pty.sessions).toBe(1);
    const metrics = await (await fetch(`${exporter.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toMatch(/^vigil_exporter_pty_sessions 1$/m);
    const stats = (await (await fetch(`${exporter.url}/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      pty: unknown;
    };
    expect(stats.pty).toEqual({ sessions: 1 });
    c.type('exit 3\r');
    expect(await c.control('exit')).toEqual({ type: 'exit', code: 3, signal: null });
    expect((await c.closed).code).toBe(1000);
    await until(
      'the session to be uncounted',
      5,
      async () => ((await (await fetch(`${exporter.url}/health`)).json()) as { pty: { sessions: number } }).pty.sessions === 0,
    );
  });

  it("gives the shell a clean environment: never the exporter's token", async () => {
    const { ws } = await start({ VIGIL_PTY_ENV: 'GREETING=bonjour,EMPTY=' });
    const c = await shell(ws);
    c.type('env; echo END-$((1+1))\r');
    const text = await c.waitFor('END-2').then(() => c.text());
    expect(text).toContain('GREETING=bonjour');
    expect(text).toContain('TERM=xterm-256color');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('VIGIL_');
    c.ws.close();
  });

  it('refuses a bad control message without ending the session, and a frame over 64 KiB by closing (1009)', async () => {
    const { ws } = await start();
    const c = await shell(ws);
    c.send({ type: 'resize', cols: 0, rows: 9999 });
    await until('an error message', 5, async () => c.controls.find((m) => m.type === 'error'));
    expect(c.controls.find((m) => m.type === 'error')).toMatchObject({ message: expect.stringMatching(/cols/) });
    c.ws.send('not json');
    c.type('echo still-$((2+2))\r');
    await c.waitFor('still-4');
    c.ws.send(Buffer.alloc(64 * 1024 + 1, 97), { binary: true });
    expect((await c.closed).code).toBe(1009);
  });

  it('allows VIGIL_PTY_MAX_SESSIONS sessions, then answers 503', async () => {
    const { ws } = await start({ VIGIL_PTY_MAX_SESSIONS: '1' });
    const first = await shell(ws);
    const second = (await openPty(ws, await bearer())) as Refusal;
    expect(second.status).toBe(503);
    expect(JSON.parse(second.body).error.message).toMatch(/VIGIL_PTY_MAX_SESSIONS/);
    first.ws.close();
  });

  it('ends a session idle for VIGIL_PTY_IDLE_TIMEOUT, saying why', async () => {
    const { ws } = await start({ VIGIL_PTY_IDLE_TIMEOUT: '1s' });
    const c = await shell(ws);
    const { code, reason } = await c.closed;
    expect(code).toBe(4000);
    expect(reason).toMatch(/VIGIL_PTY_IDLE_TIMEOUT/);
    expect(c.controls.find((m) => m.type === 'error')).toMatchObject({ message: expect.stringMatching(/no input/) });
  });

  it('pauses a flooding process while the socket is not read, and resumes it', async () => {
    const { ws } = await start();
    const c = await shell(ws, undefined, 1 << 16);
    c.type('yes flood | head -c 40000000; echo DONE-$((3*3))\r');
    await c.waitFor('flood');
    // Stop reading: the kernel's buffers fill, the exporter's unwritten bytes
    // pass the high-water mark, and the shell is paused rather than buffered.
    c.ws.pause();
    const stalledAt = c.bytes();
    const heapBefore = process.memoryUsage().heapUsed;
    await new Promise((r) => setTimeout(r, 1500));
    const heapDuring = process.memoryUsage().heapUsed;
    expect(c.bytes()).toBe(stalledAt);
    // Nowhere near the 40 MB the shell would have produced by now.
    expect(heapDuring - heapBefore).toBeLessThan(16 << 20);
    c.ws.resume();
    await c.waitFor('DONE-9');
    expect(c.bytes()).toBeGreaterThan(40_000_000);
    c.ws.close();
  });

  it('sends bulk output in frames of up to 64 KiB, not one per 4 KiB read, and the exit after the last byte', async () => {
    const { ws } = await start();
    const c = await shell(ws, undefined, 1 << 16);
    const before = c.frames.length;
    // 8 MB of output, then the shell exits: nothing may follow the exit message.
    c.type("head -c 8000000 /dev/zero | tr '\\0' a; exit 4\r");
    const exit = await c.control('exit');
    expect(exit).toEqual({ type: 'exit', code: 4, signal: null });
    const offset = c.controlOffsets[c.controls.indexOf(exit)]!;
    await c.closed;
    expect(c.bytes()).toBe(offset);
    // All of it, though the shell exits right after writing it (the exporter
    // holds the pty's slave open, so Linux does not drop its last buffer).
    expect(offset).toBeGreaterThan(8_000_000);
    expect(c.text().endsWith('a'.repeat(1000))).toBe(true);
    const bulk = c.frames.slice(before);
    // The pty is read at most 4 KiB at a time; gathered, most of the output comes in larger frames.
    expect(Math.max(...bulk)).toBeLessThanOrEqual(64 * 1024);
    const large = bulk.filter((n) => n > 4096);
    expect(large.reduce((a, n) => a + n, 0)).toBeGreaterThan(offset / 2);
  });

  it('delivers all the output of a shell that exits right after writing it', async () => {
    const { ws } = await start();
    // Without the slave held open, about one run in four came up a few KiB short.
    const totals = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const c = await shell(ws, undefined, 1 << 16);
      c.type("head -c 200000 /dev/zero | tr '\\0' a; exit 0\r");
      await c.control('exit');
      await c.closed;
      expect(c.text().endsWith('a'.repeat(1000))).toBe(true);
      totals.add(c.bytes());
    }
    expect(totals.size).toBe(1);
    expect([...totals][0]).toBeGreaterThan(200_000);
  });

  it('kills a shell that ignores the hang-up once its session is closed', async () => {
    const { ws } = await start();
    const c = await shell(ws);
    c.type("trap '' HUP; echo pid=$$=\r");
    const pid = Number(/pid=(\d+)=/.exec(await c.waitFor(/pid=\d+=/))![1]);
    const running = () => {
      try {
        // Gone, or a zombie not yet reaped ("Z" after the command's name).
        return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    expect(running()).toBe(true);
    c.ws.close();
    await until('the shell to be killed', 15, async () => !running());
  });

  it('serves /pty on its own listener with VIGIL_PTY_LISTEN, and not on the main one', async () => {
    const { exporter } = await start({ VIGIL_PTY_LISTEN: '127.0.0.1:0' });
    const main = await openPty(`${exporter.url.replace('http', 'ws')}/pty`, await bearer()).catch((e: Error) => e);
    expect(main instanceof Error || 'status' in main).toBe(true);
    expect(exporter.ptyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const c = await shell(`${exporter.ptyUrl!.replace('http', 'ws')}/pty`);
    c.type('echo own-$((5+5))\r');
    await c.waitFor('own-10');
    c.ws.close();
  });
});

describe('the shell user', () => {
  it('refuses to run shells as root unless allowed', () => {
    const uid = process.getuid?.();
    const env = { VIGIL_CONSOLE_PUBLIC_KEY: keys.publicKeyPem };
    if (uid === 0) expect(() => loadExporterConfig(env)).toThrow(/VIGIL_PTY_USER|VIGIL_PTY_ALLOW_ROOT/);
    else expect(() => loadExporterConfig({ ...env, VIGIL_PTY_USER: 'root' })).toThrow(/only start shells as root when it runs as root/);
  });

  it('starts shells as VIGIL_PTY_USER when the exporter runs as root', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('switching users needs the exporter to run as root (CI runs as root)');
    const nobody = parsePasswd(execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }))[0]!;
    const { ws } = await start({ VIGIL_PTY_USER: 'nobody', VIGIL_PTY_ALLOW_ROOT: '', VIGIL_PTY_CWD: os.tmpdir() });
    const c = await shell(ws);
    c.type('echo uid=$(id -u)-end\r');
    await c.waitFor(`uid=${nobody.uid}-end`);
    c.ws.close();
  });

  it("enters another process's namespaces through nsenter as the host's user, in its home (VIGIL_PTY_HOST_NAMESPACES)", async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('entering namespaces needs the exporter to run as root (CI runs as root)');
    const nobody = parsePasswd(execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }))[0]!;
    // This process's own namespaces stand for the host's: PID 1 of a test machine may be out of reach.
    const { ws } = await start({
      VIGIL_PTY_HOST_NAMESPACES: '1',
      VIGIL_PTY_NAMESPACES_OF: String(process.pid),
      VIGIL_PTY_USER: 'nobody',
      VIGIL_PTY_ALLOW_ROOT: '',
      VIGIL_PTY_CWD: os.tmpdir(),
    });
    const c = await shell(ws);
    c.type('echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) cwd=$(pwd) mnt=$(readlink /proc/self/ns/mnt)-end"\r');
    const line = await c.waitFor(/uid=\d+ .*-end/);
    expect(line).toContain(
      `uid=${nobody.uid} gid=${nobody.gid} groups=${nobody.gid} cwd=${os.tmpdir()} mnt=${readlinkSync(`/proc/${process.pid}/ns/mnt`)}-end`,
    );
    c.ws.close();
  });

  it('runs host shells as nsenter into PID 1 (the host, with pid: host), switching user after entering; refused unless root', () => {
    const env = { VIGIL_CONSOLE_PUBLIC_KEY: keys.publicKeyPem, VIGIL_PTY_HOST_NAMESPACES: '1', VIGIL_HOST_ROOT: '/' };
    if (process.getuid?.() !== 0) {
      expect(() => loadExporterConfig({ ...env, VIGIL_PTY_ALLOW_ROOT: '1' })).toThrow(
        /VIGIL_PTY_HOST_NAMESPACES: entering the host's namespaces needs the exporter to run as root/,
      );
      return;
    }
    const nobody = parsePasswd(execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }))[0]!;
    const spec = loadExporterConfig({ ...env, VIGIL_PTY_USER: 'nobody', VIGIL_PTY_SHELL: '/bin/sh' }).pty!.options.shell;
    expect(spec.shell).toMatch(/\/nsenter$/);
    expect(spec.args).toEqual([
      '--target=1',
      '--mount',
      '--uts',
      '--ipc',
      '--net',
      '--pid',
      '--wd=/', // nobody's home does not exist
      `--setgid=${nobody.gid}`,
      `--setuid=${nobody.uid}`,
      '--',
      '/bin/sh',
      '-l',
    ]);
    expect(spec).not.toHaveProperty('uid'); // nsenter switches after entering: node-pty must not drop root first
    expect(spec.env).not.toHaveProperty('VIGIL_EXPORTER_TOKEN');
  });

  it('reads /etc/passwd lines and skips malformed ones', () => {
    expect(
      parsePasswd(
        'root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\nx:x::1:g:/h:/bin/sh\nweb:x:1000:1000::/home/web:/usr/sbin/nologin\n',
      ),
    ).toEqual([
      { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' },
      { name: 'web', uid: 1000, gid: 1000, home: '/home/web', shell: '/usr/sbin/nologin' },
    ]);
  });
});
