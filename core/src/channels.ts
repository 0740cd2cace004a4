/**
 * Notification channels as more than one program uses them: how a channel's
 * URL is shown (its secret masked), how a message is posted to one (the
 * scraper's notifications, the console's "send a test message"), and what a
 * test message says.
 */
import { request } from 'undici';
import { maskUrl } from './secrets.js';

/** Where notifications go: a generic JSON webhook, a Slack-compatible incoming webhook, or an Alertmanager. */
export type ChannelKind = 'webhook' | 'slack' | 'alertmanager';

/** A channel's URL as listings show it: an Alertmanager's base URL is an address (password masked); a webhook's path is its secret. */
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
  const shown = maskChannelUrl(channel.kind, url);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': userAgent },
      body: JSON.stringify(body),
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

/**
 * The body of a test message for a channel of `kind`, sent by `who` at `now`:
 * for a webhook the usual payload with event id 0 and target `vigil-test`;
 * for Slack one line; for Alertmanager a `VigilTest` alert (severity none)
 * that resolves itself after a minute.
 */
export function testMessage(kind: string, who: string, now: Date = new Date()): unknown {
  const message = `Test message from Vigil, sent by ${who}: this channel receives Vigil's down and recovery notifications.`;
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
