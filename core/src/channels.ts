/**
 * Notification channels as more than one program uses them: how a channel's
 * URL is shown (its secret masked), how a message is posted to one (the
 * scraper's notifications, the console's "send a test message"), and what a
 * test message says.
 */
import { request } from 'undici';
import { maskUrl, maskUrlsIn } from './secrets.js';

/**
 * Where notifications go: a generic JSON webhook, an Alertmanager, or a
 * chat or push service (a Slack-compatible incoming webhook, Discord,
 * Microsoft Teams, ntfy, Gotify, Pushover, Telegram) or email over SMTP.
 */
export type ChannelKind =
  | 'webhook'
  | 'slack'
  | 'alertmanager'
  | 'discord'
  | 'teams'
  | 'ntfy'
  | 'gotify'
  | 'pushover'
  | 'telegram'
  | 'email';

/** Every channel kind, as the API, the CLI and the database accept them. */
export const CHANNEL_KINDS: readonly ChannelKind[] = [
  'webhook',
  'slack',
  'alertmanager',
  'discord',
  'teams',
  'ntfy',
  'gotify',
  'pushover',
  'telegram',
  'email',
];

/** The kinds that take a message for people (a title and lines) rather than a JSON document of their own. */
export const MESSAGE_KINDS: ReadonlySet<string> = new Set(['slack', 'discord', 'teams', 'ntfy', 'gotify', 'pushover', 'telegram', 'email']);

/** What each kind's URL is, for forms and `--help`. */
export const CHANNEL_URL_HINTS: Record<ChannelKind, string> = {
  webhook: 'any https:// URL; it receives JSON',
  slack: 'https://hooks.slack.com/services/… (or Mattermost, Rocket.Chat)',
  alertmanager: 'the base URL, http://alertmanager:9093',
  discord: 'https://discord.com/api/webhooks/<id>/<token>',
  teams: 'a Teams Workflows webhook URL (https://…logic.azure.com/…)',
  ntfy: 'https://ntfy.sh/<topic> (a token as https://:<token>@host/<topic>)',
  gotify: 'https://gotify.example/message?token=<application token>',
  pushover: 'https://api.pushover.net/1/messages.json?token=<app token>&user=<user key>',
  telegram: 'https://api.telegram.org/bot<token>/sendMessage?chat_id=<chat id>',
  email: 'smtp://user:password@mail.example:587?from=vigil@example.com&to=ops@example.com (smtps:// for TLS from the start)',
};

/** A channel's URL as listings show it: an Alertmanager's base URL is an address (password masked); another's path and query hold its secrets. */
export function maskChannelUrl(kind: string, url: string): string {
  return maskUrl(url, { maskPath: kind !== 'alertmanager' });
}

/**
 * POSTs `body` as JSON to a channel: to the webhook's URL, or to an
 * Alertmanager's `/api/v2/alerts`. Errors name the channel's URL masked
 * (a webhook's path is its secret) and say what went wrong.
 * @throws Error on no answer within `timeoutMs`, a refused connection, or a non-2xx status (with the start of the answer)
 */
export async function postToChannel(
  channel: { kind: string; url: string },
  body: unknown,
  { timeoutMs = 10_000, userAgent = 'vigil' }: { timeoutMs?: number; userAgent?: string } = {},
): Promise<void> {
  const url = channel.kind === 'alertmanager' ? `${channel.url.replace(/\/+$/, '')}/api/v2/alerts` : channel.url;
  await postRaw(
    channel.kind,
    { url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    { timeoutMs, userAgent },
  );
}

/** POSTs one request; errors name its URL masked for `kind` and say what went wrong. */
async function postRaw(kind: string, req: ChatRequest, { timeoutMs = 10_000, userAgent = 'vigil' }: SendOptions): Promise<void> {
  const shown = maskChannelUrl(kind, req.url);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(req.url, {
      method: 'POST',
      headers: { ...req.headers, 'user-agent': userAgent },
      body: req.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ECONNREFUSED'
        ? 'connection refused'
        : e.name === 'TimeoutError'
          ? `no answer within ${timeoutMs / 1000} s`
          : e.code === 'ENOTFOUND'
            ? 'host name not found'
            : e.code === 'ERR_INVALID_URL' || e.code === 'UND_ERR_INVALID_ARG'
              ? 'not a valid URL'
              : (e.code ?? e.name);
    throw new Error(`${shown}: ${why}`);
  }
  const text = (await res.body.text()).slice(0, 200);
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`${shown}: HTTP ${res.statusCode}${text ? `: ${text.trim()}` : ''}`);
}

/** The words of a test message sent by `who`. */
const testWords = (who: string) =>
  `Test message from Vigil, sent by ${who}: this channel receives Vigil's alerts and its hosts' down and recovery notifications.`;

/**
 * The body of a test message for a channel of `kind`, sent by `who` at `now`:
 * for a webhook the usual payload with event id 0 and target `vigil-test`;
 * for Slack one line; for Alertmanager a `VigilTest` alert (severity none)
 * that resolves itself after a minute.
 */
export function testMessage(kind: string, who: string, now: Date = new Date()): unknown {
  const message = testWords(who);
  switch (kind) {
    case 'slack':
      return { text: `:white_check_mark: ${message}` };
    case 'alertmanager':
      return [
        {
          labels: { alertname: 'VigilTest', severity: 'none' },
          annotations: { summary: 'Vigil test alert', description: message },
          startsAt: now.toISOString(),
          endsAt: new Date(now.getTime() + 60_000).toISOString(),
        },
      ];
    default:
      return {
        version: 1,
        event: { id: 0, time: now.toISOString(), from: null, to: null, message },
        target: { id: 0, name: 'vigil-test', url: '', labels: {} },
      };
  }
}

/**
 * Sends a channel a test message in `who`'s name: {@link testMessage}'s body
 * for a webhook, Slack or Alertmanager; a message for people to the others.
 * @throws Error naming the channel's URL masked and what went wrong
 */
export async function sendTestMessage(channel: { kind: string; url: string }, who: string, opts: SendOptions = {}): Promise<void> {
  if (channel.kind === 'webhook' || channel.kind === 'slack' || channel.kind === 'alertmanager')
    return postToChannel(channel, testMessage(channel.kind, who), opts);
  return sendMessage(channel, { title: 'Vigil test message', lines: [testWords(who)], status: 'info' }, opts);
}

/** A notification for people: a title, lines under it, and whether it is bad news. */
export interface ChatMessage {
  title: string;
  lines: readonly string[];
  /** `firing`: something is wrong; `resolved`: it is over; `info`: neither (a test). */
  status: 'firing' | 'resolved' | 'info';
  /** The worst severity in it (`critical` raises a push's priority). */
  severity?: string;
}

/** One HTTP request to a service. */
export interface ChatRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const ICON = { firing: '🔴', resolved: '🟢', info: 'ℹ️' } as const;
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * The request that posts `msg` to a chat or push service, in the form its
 * documentation gives (Slack's and Discord's webhooks, a Teams Workflows
 * Adaptive Card, ntfy's JSON publishing, Gotify's and Pushover's message
 * APIs, Telegram's sendMessage). Secrets stay where the URL put them (path,
 * query or user info) except where the service wants them in the body.
 * @throws Error for a URL that lacks what the kind needs (a Pushover user, a Telegram chat_id, an ntfy topic)
 */
export function chatRequest(kind: string, rawUrl: string, msg: ChatMessage): ChatRequest {
  const json = (url: string, body: unknown, headers: Record<string, string> = {}): ChatRequest => ({
    url,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = [msg.title, ...msg.lines].join('\n');
  const u = new URL(rawUrl);
  switch (kind) {
    case 'slack':
      return json(rawUrl, { text: `${ICON[msg.status]} *${msg.title}*${msg.lines.length ? `\n${msg.lines.join('\n')}` : ''}` });
    case 'discord':
      // Discord: content of at most 2,000 characters.
      return json(rawUrl, {
        content: cut(`${ICON[msg.status]} **${msg.title}**\n${msg.lines.join('\n')}`, 2000),
        allowed_mentions: { parse: [] },
      });
    case 'teams':
      return json(rawUrl, {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                { type: 'TextBlock', text: `${ICON[msg.status]} ${msg.title}`, weight: 'Bolder', size: 'Medium', wrap: true },
                ...msg.lines.map((l) => ({ type: 'TextBlock', text: l, wrap: true, spacing: 'Small' })),
              ],
            },
          },
        ],
      });
    case 'ntfy': {
      // JSON publishing: POST to the server's root with the topic in the body; a token as the URL's password.
      let a = 0;
      let b = u.pathname.length;
      while (a < b && u.pathname[a] === '/') a++;
      while (b > a && u.pathname[b - 1] === '/') b--;
      const topic = u.pathname.slice(a, b);
      if (!topic || topic.includes('/')) throw new Error('an ntfy URL names one topic: https://ntfy.sh/<topic>');
      const headers: Record<string, string> = {};
      if (u.password) headers.authorization = `Bearer ${decodeURIComponent(u.password)}`;
      u.username = '';
      u.password = '';
      return json(
        `${u.origin}/`,
        {
          topic,
          title: msg.title,
          message: msg.lines.join('\n') || msg.title,
          priority: msg.status === 'firing' ? (msg.severity === 'critical' ? 5 : 4) : 3,
          tags: [msg.status === 'firing' ? 'rotating_light' : msg.status === 'resolved' ? 'white_check_mark' : 'information_source'],
        },
        headers,
      );
    }
    case 'gotify':
      return json(rawUrl, {
        title: msg.title,
        message: msg.lines.join('\n') || msg.title,
        priority: msg.status === 'firing' ? (msg.severity === 'critical' ? 8 : 5) : 2,
      });
    case 'pushover': {
      const token = u.searchParams.get('token');
      const user = u.searchParams.get('user');
      if (!token || !user) throw new Error('a Pushover URL needs ?token=<app token>&user=<user key>');
      u.search = '';
      // Pushover: a title of 250 characters, a message of 1,024.
      return json(u.toString(), {
        token,
        user,
        title: cut(msg.title, 250),
        message: cut(msg.lines.join('\n') || msg.title, 1024),
        priority: msg.status === 'firing' && msg.severity === 'critical' ? 1 : 0,
      });
    }
    case 'telegram': {
      const chat = u.searchParams.get('chat_id');
      if (!chat) throw new Error('a Telegram URL needs ?chat_id=<chat id>: https://api.telegram.org/bot<token>/sendMessage?chat_id=…');
      u.search = '';
      // Telegram: a text of at most 4,096 characters; plain text, so nothing in it is read as markup.
      return json(u.toString(), { chat_id: chat, text: cut(`${ICON[msg.status]} ${text}`, 4096), disable_web_page_preview: true });
    }
    default:
      throw new Error(`channel kind "${kind}" takes no chat message`);
  }
}

/** Options for sending: timeout, user agent, and (for tests and private mail servers) the CAs to trust. */
export interface SendOptions {
  timeoutMs?: number;
  userAgent?: string;
  /** Extra certificate authorities (PEM) an SMTP server's certificate may chain to; the system's are trusted anyway. */
  ca?: string;
}

/**
 * Sends `msg` by email over SMTP with nodemailer: `smtp://` upgrades with
 * STARTTLS when the server offers it (`?starttls=required` refuses a server
 * that does not), `smtps://` is TLS from the start. `from` and `to` (commas
 * between addresses) come from the URL's query.
 * @throws Error naming the server (password masked) and what failed
 */
export async function sendEmail(rawUrl: string, msg: ChatMessage, opts: SendOptions = {}): Promise<void> {
  const u = new URL(rawUrl);
  const shown = maskChannelUrl('email', rawUrl);
  const from = u.searchParams.get('from');
  const to = u.searchParams.get('to');
  if (!from || !to) throw new Error(`${shown}: an email channel needs ?from=<address>&to=<address,…>`);
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:')
    throw new Error(`${shown}: an email channel's URL starts with smtp:// or smtps://`);
  const { createTransport } = await import('nodemailer');
  const secure = u.protocol === 'smtps:';
  const transport = createTransport({
    host: u.hostname,
    port: Number(u.port) || (secure ? 465 : 587),
    secure,
    requireTLS: u.searchParams.get('starttls') === 'required',
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    connectionTimeout: opts.timeoutMs ?? 10_000,
    greetingTimeout: opts.timeoutMs ?? 10_000,
    socketTimeout: opts.timeoutMs ?? 10_000,
    tls: opts.ca ? { ca: opts.ca } : undefined,
  });
  try {
    await transport.sendMail({
      from,
      to: to.split(',').map((a) => a.trim()),
      subject: `${msg.status === 'firing' ? '[FIRING] ' : msg.status === 'resolved' ? '[RESOLVED] ' : ''}${cut(msg.title, 200)}`,
      text: `${msg.title}\n\n${msg.lines.join('\n')}\n\n-- \nVigil\n`,
      headers: { 'X-Vigil-Status': msg.status },
    });
  } catch (err) {
    throw new Error(`${shown}: ${maskUrlsIn((err as Error).message)}`);
  } finally {
    transport.close();
  }
}

/**
 * Sends a message for people to a channel of a message kind: by email, or
 * with {@link chatRequest} over HTTP (errors as {@link postToChannel}'s).
 * @throws Error naming the channel's URL masked and what went wrong
 */
export async function sendMessage(channel: { kind: string; url: string }, msg: ChatMessage, opts: SendOptions = {}): Promise<void> {
  if (channel.kind === 'email') return sendEmail(channel.url, msg, opts);
  let req: ChatRequest;
  try {
    req = chatRequest(channel.kind, channel.url, msg);
  } catch (err) {
    throw new Error(`${maskChannelUrl(channel.kind, channel.url)}: ${(err as Error).message}`);
  }
  await postRaw(channel.kind, req, opts);
}
