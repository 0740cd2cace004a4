/**
 * Connect-out (VIGIL_CONNECT=1): the exporter listens on no port and keeps one
 * outbound WebSocket to the console (core's connect.ts has the frames). The
 * console relays the scraper's requests over it; each is served by the
 * exporter's own app in process (light-my-request), so authentication,
 * the goodbye and every endpoint behave as over a port. A terminal is a second
 * socket the exporter dials back, carrying the terminal's own WebSocket to the
 * PTY server.
 */
import type http from 'node:http';
import {
  CONNECT_MAX_FRAME_BYTES,
  CONNECT_PING_SECONDS,
  type ConsoleFrame,
  consoleFrame,
  encodeResponse,
  parseFrame,
  type ResponseHeader,
  relayedPath,
  websocketUrl,
} from '@vigil/core/connect';
import { CONNECT_PATH, ENROL_TYPES, type HostIdentity, signHostMessage } from '@vigil/core/enrolment';
import type { Logger } from '@vigil/core/log';
import inject from 'light-my-request';
import { createWebSocketStream, WebSocket } from 'ws';
import { backoffSeconds } from './enrol.js';

/** What the connect-out client needs. */
export interface ConnectOptions {
  consoleUrl: string;
  identity: HostIdentity;
  /** The exporter's app: relayed requests are served by it. */
  handler: http.RequestListener;
  /** The bearer token relayed requests are served with (the host's enrolled credential). */
  credential: () => string;
  /** A server that listens on nothing, taking terminal sockets dialled back (its `upgrade` handler is the PTY server's); null: terminals off. */
  ptyServer: http.Server | null;
  log: Logger;
  /** Seconds between redials: first, and at most (backoff with jitter in between). */
  backoff?: { first: number; max: number };
}

/** Response headers not relayed (the console's own connection has its own). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

/**
 * Keeps the socket to the console open: dials, serves relayed requests and
 * terminal dial-backs, and re-dials with backoff and jitter when it drops or is
 * refused (a removed host is refused until it enrols again). Never sends
 * anything on its own but answers.
 */
export class ConnectClient {
  #ws: WebSocket | null = null;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #silence: NodeJS.Timeout | null = null;
  #closed = false;
  #everConnected = false;
  #connectedWaiters: (() => void)[] = [];
  /** Relayed requests being answered. */
  readonly #serving = new Set<Promise<void>>();

  constructor(private readonly o: ConnectOptions) {}

  /** Whether the socket is open now. */
  get connected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Starts dialling. */
  start(): void {
    void this.#dial();
  }

  /** Resolves once the socket is open (at once when it is). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((r) => this.#connectedWaiters.push(r));
  }

  /**
   * Stops dialling, lets the answers being made leave (the goodbye among them:
   * its request counts as told once answered, before the frame is sent), up to
   * 2 s, then closes the socket.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#silence) clearTimeout(this.#silence);
    if (this.#serving.size > 0)
      await Promise.race([Promise.allSettled([...this.#serving]), new Promise((r) => setTimeout(r, 2000).unref())]);
    const ws = this.#ws;
    if (!ws) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000, 'exporter stopping');
    });
  }

  async #signed(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await signHostMessage(this.o.identity, ENROL_TYPES.connect, {})}` };
  }

  async #dial(): Promise<void> {
    if (this.#closed) return;
    const url = websocketUrl(this.o.consoleUrl, CONNECT_PATH);
    const ws = new WebSocket(url, {
      headers: await this.#signed(),
      maxPayload: CONNECT_MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    this.#ws = ws;
    let refusal: string | null = null;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        if (body.length < 2000) body += c.toString('utf8');
      });
      res.on('end', () => {
        refusal = `${res.statusCode}: ${body.trim().slice(0, 300)}`;
        ws.terminate();
      });
    });
    ws.on('error', () => {
      // said on close
    });
    ws.on('open', () => {
      this.#attempt = 0;
      this.o.log.info(
        { console: this.o.consoleUrl },
        this.#everConnected ? 'connected to the console again' : 'connected to the console: scraped over this socket, no port listened on',
      );
      this.#everConnected = true;
      this.#heard();
      for (const w of this.#connectedWaiters.splice(0)) w();
    });
    ws.on('ping', () => this.#heard());
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const frame = parseFrame(consoleFrame, data.toString('utf8'));
      if (!frame) return void this.o.log.warn('the console sent a frame this exporter does not read; dropped');
      if (frame.type === 'request') {
        const p = this.#serve(ws, frame).finally(() => this.#serving.delete(p));
        this.#serving.add(p);
      } else void this.#dialBack(frame.sid);
    });
    ws.on('close', (code, reason) => {
      if (this.#silence) clearTimeout(this.#silence);
      if (this.#ws === ws) this.#ws = null;
      if (this.#closed) return;
      const wait = backoffSeconds(this.#attempt++, this.o.backoff?.first ?? 1, this.o.backoff?.max ?? 60);
      this.o.log.warn(
        {
          console: this.o.consoleUrl,
          code,
          reason: refusal ?? (reason.toString() || undefined),
          retryInSeconds: Math.round(wait * 10) / 10,
        },
        refusal ? 'the console refused the connection; dialling again' : 'the connection to the console closed; dialling again',
      );
      this.#timer = setTimeout(() => void this.#dial(), wait * 1000);
    });
  }

  /** Each ping (or the open) restarts the silence timer: two ping intervals without one, the socket is dead. */
  #heard(): void {
    if (this.#silence) clearTimeout(this.#silence);
    this.#silence = setTimeout(() => this.#ws?.terminate(), (2 * CONNECT_PING_SECONDS + 5) * 1000);
  }

  async #serve(ws: WebSocket, f: Extract<ConsoleFrame, { type: 'request' }>): Promise<void> {
    let header: ResponseHeader;
    let body: Buffer;
    if (!relayedPath(f.path)) {
      header = { id: f.id, status: 404, headers: { 'content-type': 'application/json' } };
      body = Buffer.from('{"error":{"code":"not_found","message":"not relayed"}}');
    } else {
      try {
        const res = await inject(this.o.handler, {
          method: f.method,
          url: f.path,
          headers: { ...f.headers, authorization: `Bearer ${this.o.credential()}` },
          remoteAddress: f.remote ?? '127.0.0.1',
        });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers))
          if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
        header = { id: f.id, status: res.statusCode, headers };
        body = res.rawPayload;
      } catch (e) {
        this.o.log.error({ err: (e as Error).message, path: f.path }, 'a relayed request failed');
        header = { id: f.id, status: 500, headers: { 'content-type': 'application/json' } };
        body = Buffer.from('{"error":{"code":"internal","message":"the exporter failed to answer"}}');
      }
    }
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeResponse(header, body), { binary: true });
  }

  /** A terminal: dial `<console>/api/v1/connect/pty/<sid>` and hand that socket to the PTY server as a connection. */
  async #dialBack(sid: string): Promise<void> {
    if (!this.o.ptyServer)
      return void this.o.log.warn('the console asked for a terminal, and terminals are off here (VIGIL_CONSOLE_PUBLIC_KEY unset)');
    const ws = new WebSocket(websocketUrl(this.o.consoleUrl, `${CONNECT_PATH}/pty/${encodeURIComponent(sid)}`), {
      headers: await this.#signed(),
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    ws.on('error', (e) => this.o.log.warn({ err: e.message }, 'cannot dial the console back for a terminal'));
    ws.on('open', () => this.o.ptyServer!.emit('connection', createWebSocketStream(ws)));
  }
}
