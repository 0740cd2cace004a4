import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { decodeResponse } from '@vigil/core/connect';
import { CONNECT_PATH, ENROL_TYPES, newHostIdentity, verifyHostMessage } from '@vigil/core/enrolment';
import { createLogger } from '@vigil/core/log';
import { until } from '@vigil/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebSocketStream, WebSocket, WebSocketServer } from 'ws';
import { ConnectClient } from './connect.js';

/**
 * A console's end of the socket as far as an exporter can tell: it checks each
 * dial is a `connect` message signed by the host's key (core's verifyHostMessage),
 * sends frames, and takes terminal dial-backs.
 */
async function consoleEnd() {
  const wss = new WebSocketServer({ noServer: true });
  const sockets: WebSocket[] = [];
  const dialBacks: WebSocket[] = [];
  const refused: string[] = [];
  let refuse = false;
  const server = http.createServer();
  server.on('upgrade', async (req, socket: Duplex, head) => {
    try {
      await verifyHostMessage((req.headers.authorization ?? '').slice(7), ENROL_TYPES.connect);
    } catch (e) {
      refused.push((e as Error).message);
      return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    }
    if (refuse) {
      refused.push('removed');
      const body = '{"error":{"message":"no host is enrolled with this key"}}';
      return void socket.end(`HTTP/1.1 404 Not Found\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => (req.url === CONNECT_PATH ? sockets : dialBacks).push(ws));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    dialBacks,
    refused,
    refuseAll: (v: boolean) => {
      refuse = v;
    },
    /** Sends a request frame on the newest socket and resolves with the answer. */
    ask: (path: string, id = 1) =>
      new Promise<{ id: number; status: number; headers: Record<string, string>; body: string } | null>((resolve) => {
        const ws = sockets.at(-1)!;
        ws.once('message', (d: Buffer) => {
          const r = decodeResponse(d);
          resolve(r && { ...r.header, body: r.body.toString() });
        });
        ws.send(
          JSON.stringify({ type: 'request', id, method: 'GET', path, headers: { 'user-agent': 'vigil-scraper' }, remote: '10.9.8.7' }),
        );
      }),
    close: () => {
      for (const ws of [...sockets, ...dialBacks]) ws.terminate();
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('the connect-out client', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("serves relayed requests with the exporter's own app and its credential, and only the relayed paths", async () => {
    const c = await consoleEnd();
    cleanups.push(c.close);
    const seen: http.IncomingHttpHeaders[] = [];
    const handler: http.RequestListener = (req, res) => {
      seen.push({ ...req.headers, 'x-remote': req.socket.remoteAddress });
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4', connection: 'close', 'x-vigil-exporter-state': 'running' })
        .end('up 1\n');
    };
    const lines: string[] = [];
    const client = new ConnectClient({
      consoleUrl: c.url,
      identity: await newHostIdentity(),
      handler,
      credential: () => 'vgs_own',
      ptyServer: null,
      log: createLogger('test', 'info', false, { write: (l: string) => void lines.push(l) } as never),
    });
    cleanups.push(() => client.close());
    client.start();
    await client.whenConnected();
    expect(client.connected).toBe(true);
    const r = await c.ask('/metrics');
    expect(r).toMatchObject({ id: 1, status: 200, body: 'up 1\n' });
    expect(r!.headers).toMatchObject({ 'content-type': 'text/plain; version=0.0.4', 'x-vigil-exporter-state': 'running' });
    expect(r!.headers).not.toHaveProperty('connection');
    expect(seen[0]).toMatchObject({ authorization: 'Bearer vgs_own', 'user-agent': 'vigil-scraper', 'x-remote': '10.9.8.7' });
    expect(await c.ask('/pty', 2)).toMatchObject({ id: 2, status: 404 });
    // A frame it does not read is dropped, the socket kept.
    c.sockets[0]!.send('{"type":"bogus"}');
    await until('the drop to be logged', 5, async () => lines.some((l) => l.includes('does not read')));
    expect(client.connected).toBe(true);
  });

  it('dials again with backoff when the socket drops or is refused, and stops when closed', async () => {
    const c = await consoleEnd();
    cleanups.push(c.close);
    const lines: string[] = [];
    const client = new ConnectClient({
      consoleUrl: c.url,
      identity: await newHostIdentity(),
      handler: (_req, res) => res.end('ok'),
      credential: () => 'vgs_own',
      ptyServer: null,
      log: createLogger('test', 'info', false, { write: (l: string) => void lines.push(l) } as never),
      backoff: { first: 0.05, max: 0.2 },
    });
    client.start();
    await client.whenConnected();
    c.refuseAll(true);
    c.sockets[0]!.terminate();
    await until('a refused dial', 10, async () => c.refused.length > 0);
    await until('the refusal logged with its reason', 10, async () => lines.some((l) => l.includes('no host is enrolled with this key')));
    c.refuseAll(false);
    await until('a new socket', 10, async () => c.sockets.length === 2 && client.connected);
    expect(lines.some((l) => l.includes('connected to the console again'))).toBe(true);
    await client.close();
    expect(client.connected).toBe(false);
    const dials = c.sockets.length + c.refused.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(c.sockets.length + c.refused.length).toBe(dials);
  });

  it('carries a terminal over a socket it dials back, to its PTY server', async () => {
    const c = await consoleEnd();
    cleanups.push(c.close);
    // The exporter's PTY server, listening on nothing: an echo over WebSocket.
    const pty = http.createServer();
    const echo = new WebSocketServer({ noServer: true });
    pty.on('upgrade', (req, socket, head) => echo.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => ws.send(`echo:${d}`))));
    const client = new ConnectClient({
      consoleUrl: c.url,
      identity: await newHostIdentity(),
      handler: (_req, res) => res.end('ok'),
      credential: () => 'vgs_own',
      ptyServer: pty,
      log: createLogger('test', 'warn', false),
    });
    cleanups.push(() => client.close());
    client.start();
    await client.whenConnected();
    c.sockets[0]!.send(JSON.stringify({ type: 'pty', sid: 'a-session-id-of-24-chars' }));
    await until('the dial-back', 10, async () => c.dialBacks.length === 1);
    // The console's side: a WebSocket client over the dialled-back socket.
    const tunnel = createWebSocketStream(c.dialBacks[0]!);
    const terminal = new WebSocket('ws://connected-host/pty', { createConnection: () => tunnel as never });
    const answer = await new Promise<string>((resolve, reject) => {
      terminal.once('open', () => terminal.send('ls'));
      terminal.once('message', (d) => resolve(d.toString()));
      terminal.once('error', reject);
    });
    expect(answer).toBe('echo:ls');
    terminal.terminate();
  });
});
