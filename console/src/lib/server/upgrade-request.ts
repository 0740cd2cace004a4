/**
 * What the terminal hub reads of a WebSocket upgrade request, which SvelteKit's
 * hooks never see: the session cookie, and the client's address behind the
 * configured number of proxies.
 */
import type http from 'node:http';
import { parse } from 'cookie';

/** The value of cookie `name` in the request's Cookie header, or null (a malformed value is left undecoded, never thrown). */
export function cookieOf(req: Pick<http.IncomingMessage, 'headers'>, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  return parse(header)[name] ?? null;
}

/**
 * The client's address: the peer's, or with `proxyHops` proxies in front (adapter-node's
 * XFF_DEPTH), the address the outermost of them recorded in X-Forwarded-For.
 */
export function clientAddressOf(req: Pick<http.IncomingMessage, 'headers' | 'socket'>, proxyHops: number): string | null {
  if (proxyHops > 0) {
    const xff = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const v = xff[xff.length - proxyHops];
    if (v) return v;
  }
  return req.socket.remoteAddress ?? null;
}
