import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatMessage, chatRequest, sendEmail, sendMessage, sendTestMessage } from './channels.js';
import { closedPort, httpServer, requireCommand, selfSignedCert, until } from './testing/index.js';

interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A receiver recording each request (method, path with query, headers, JSON body) and answering 200, or the statuses given first. */
async function receiver(statuses: number[] = []) {
  const got: Received[] = [];
  const server = await httpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      got.push({ method: req.method!, path: req.url!, headers: req.headers, body: JSON.parse(body) });
      res.statusCode = statuses.shift() ?? 200;
      res.end(res.statusCode === 200 ? '{"ok":true}' : '{"error":"bad token"}');
    });
  });
  return { origin: new URL(server.url).origin, got, close: server.close };
}

const firing: ChatMessage = {
  title: '2 firing: ProbeFailing (rack=a)',
  lines: ['pi-1 · ProbeFailing (critical): probe site is failing', 'pi-2 · ProbeFailing (critical): probe site is failing'],
  status: 'firing',
  severity: 'critical',
};

describe('chat and push services, each as its documentation says', () => {
  let r: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    r = await receiver();
  });
  afterAll(() => r.close());
  const last = () => r.got.at(-1)!;

  it('Slack and Discord: a text, Discord cut to 2,000 characters and mentioning nobody', async () => {
    await sendMessage({ kind: 'slack', url: `${r.origin}/services/T0/B0/SECRET` }, firing);
    expect(last()).toMatchObject({ method: 'POST', path: '/services/T0/B0/SECRET', headers: { 'content-type': 'application/json' } });
    expect(last().body).toEqual({ text: `🔴 *${firing.title}*\n${firing.lines.join('\n')}` });
    await sendMessage({ kind: 'discord', url: `${r.origin}/api/webhooks/1/TOKEN` }, { ...firing, lines: ['x'.repeat(3000)] });
    expect(last().path).toBe('/api/webhooks/1/TOKEN');
    expect((last().body.content as string).length).toBe(2000);
    expect(last().body.content).toMatch(/^🔴 \*\*2 firing/);
    expect(last().body.allowed_mentions).toEqual({ parse: [] });
  });

  it('Teams: an Adaptive Card in a message, a text block per line', async () => {
    await sendMessage({ kind: 'teams', url: `${r.origin}/workflows/abc?sig=SECRET` }, firing);
    const card = (
      last().body.attachments as { contentType: string; content: { type: string; version: string; body: { text: string }[] } }[]
    )[0]!;
    expect(last().body.type).toBe('message');
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.type).toBe('AdaptiveCard');
    expect(card.content.body.map((b) => b.text)).toEqual([`🔴 ${firing.title}`, ...firing.lines]);
  });

  it('ntfy: JSON publishing to the server root, the topic in the body, a token from the URL as a bearer', async () => {
    const u = new URL(r.origin);
    await sendMessage({ kind: 'ntfy', url: `http://:tk_SECRET@${u.host}/vigil-alerts/` }, firing);
    expect(last()).toMatchObject({ path: '/', headers: { authorization: 'Bearer tk_SECRET' } });
    expect(last().body).toEqual({
      topic: 'vigil-alerts',
      title: firing.title,
      message: firing.lines.join('\n'),
      priority: 5,
      tags: ['rotating_light'],
    });
    await sendMessage({ kind: 'ntfy', url: `${r.origin}/t` }, { ...firing, status: 'resolved' });
    expect(last().headers.authorization).toBeUndefined();
    expect(last().body).toMatchObject({ topic: 't', priority: 3, tags: ['white_check_mark'] });
    await expect(sendMessage({ kind: 'ntfy', url: `${r.origin}/` }, firing)).rejects.toThrow(/names one topic/);
  });

  it('Gotify and Pushover: their message APIs, Pushover with its keys moved into the body and its limits', async () => {
    await sendMessage({ kind: 'gotify', url: `${r.origin}/message?token=APPTOKEN` }, firing);
    expect(last().path).toBe('/message?token=APPTOKEN');
    expect(last().body).toEqual({ title: firing.title, message: firing.lines.join('\n'), priority: 8 });
    await sendMessage(
      { kind: 'pushover', url: `${r.origin}/1/messages.json?token=APP&user=USER` },
      { ...firing, title: 't'.repeat(300), lines: ['m'.repeat(2000)] },
    );
    expect(last().path).toBe('/1/messages.json');
    expect(last().body).toMatchObject({ token: 'APP', user: 'USER', priority: 1 });
    expect([(last().body.title as string).length, (last().body.message as string).length]).toEqual([250, 1024]);
    expect(() => chatRequest('pushover', `${r.origin}/1/messages.json?token=APP`, firing)).toThrow(/needs \?token=/);
  });

  it('Telegram: sendMessage with the chat in the body, as plain text', async () => {
    await sendMessage({ kind: 'telegram', url: `${r.origin}/bot123:SECRET/sendMessage?chat_id=-10042` }, firing);
    expect(last().path).toBe('/bot123:SECRET/sendMessage');
    expect(last().body).toEqual({
      chat_id: '-10042',
      text: `🔴 ${[firing.title, ...firing.lines].join('\n')}`,
      disable_web_page_preview: true,
    });
    expect(() => chatRequest('telegram', `${r.origin}/botX/sendMessage`, firing)).toThrow(/needs \?chat_id=/);
    expect(() => chatRequest('webhook', r.origin, firing)).toThrow(/takes no chat message/);
  });

  it('never shows a secret in an error, and sends a test message to each kind', async () => {
    const refusing = await receiver([401]);
    try {
      await expect(sendMessage({ kind: 'telegram', url: `${refusing.origin}/bot1:SECRET/sendMessage?chat_id=1` }, firing)).rejects.toThrow(
        /^http:\/\/127\.0\.0\.1:\d+\/\*\*\*: HTTP 401: \{"error":"bad token"\}$/,
      );
      await expect(sendMessage({ kind: 'pushover', url: `${refusing.origin}/1/messages.json?token=SECRET` }, firing)).rejects.toThrow(
        /^http:\/\/127\.0\.0\.1:\d+\/\*\*\*: a Pushover URL needs/,
      );
    } finally {
      await refusing.close();
    }
    await sendTestMessage({ kind: 'gotify', url: `${r.origin}/message?token=T` }, 'ada');
    expect(last().body).toMatchObject({ title: 'Vigil test message', priority: 2 });
    expect(last().body.message).toContain('sent by ada');
    await sendTestMessage({ kind: 'webhook', url: `${r.origin}/hook` }, 'ada');
    expect(last().body).toMatchObject({ version: 1, target: { name: 'vigil-test' } });
  });
});

describe('email over SMTP with STARTTLS, against a real SMTP server (aiosmtpd)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-smtp-'));
  let smtp: ChildProcess;
  let port: number;
  let output = '';
  let ca: string;
  let started: Promise<void> | null = null;
  /** Starts the SMTP server once, for the first test that needs it. */
  function start(ctx: { skip: (note: string) => void }): Promise<void> {
    requireCommand('/usr/bin/python3', 'python3-aiosmtpd', (note) => ctx.skip(note), ['-m', 'aiosmtpd', '--version']);
    started ??= (async () => {
      const cert = selfSignedCert(dir, '/CN=127.0.0.1', { altNames: ['127.0.0.1'] });
      ca = cert.cert.toString();
      port = await closedPort();
      // STARTTLS offered and required: a client that does not upgrade cannot send.
      smtp = spawn(
        '/usr/bin/python3',
        ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '--tlscert', cert.certFile, '--tlskey', cert.keyFile],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      smtp.stdout!.on('data', (d) => (output += d));
      await until(
        'the SMTP server listens',
        20,
        () =>
          new Promise<boolean>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => {
              s.destroy();
              resolve(true);
            });
            s.on('error', () => resolve(false));
          }),
      );
    })();
    return started;
  }
  afterAll(() => {
    smtp?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers the message upgraded to TLS, to every recipient', async (ctx) => {
    await start(ctx);
    await sendEmail(`smtp://127.0.0.1:${port}?from=vigil@example.com&to=ops@example.com,%20oncall@example.com`, firing, { ca });
    const text = await until('the message arrives', 10, async () => output.includes('END MESSAGE') && output);
    expect(text).toContain('Subject: [FIRING] 2 firing: ProbeFailing (rack=a)');
    expect(text).toContain('X-Vigil-Status: firing');
    expect(text).toMatch(/To: ops@example\.com, oncall@example\.com/);
    // The body is quoted-printable (it holds a "·"): decoded, it is the message's lines.
    const body = Buffer.from(
      text
        .slice(text.indexOf('\n\n'))
        .replaceAll(/=\r?\n/g, '')
        .replaceAll(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
    expect(body).toContain('pi-2 · ProbeFailing (critical): probe site is failing');
  });

  it('refuses an unknown certificate, and names the server without its password', async (ctx) => {
    await start(ctx);
    await expect(sendEmail(`smtp://vigil:hunter2@127.0.0.1:${port}?from=a@b.c&to=d@e.f`, firing)).rejects.toThrow(
      new RegExp(`^smtp://vigil:\\*\\*\\*@127\\.0\\.0\\.1:${port}/\\*\\*\\*: .*certificate`),
    );
    await expect(sendEmail(`smtp://127.0.0.1:${port}?to=d@e.f`, firing)).rejects.toThrow(/needs \?from=<address>&to=/);
    await expect(sendEmail(`http://127.0.0.1:${port}?from=a@b.c&to=d@e.f`, firing)).rejects.toThrow(/starts with smtp:\/\/ or smtps:\/\//);
  });
});
