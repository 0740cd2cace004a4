/**
 * The console's end of the connect-out sockets (core's connect.ts): hosts
 * behind NAT keep one WebSocket here (`/api/v1/connect`, signed with their
 * key), and the relay route `/api/v1/connect/<id>/metrics` sends the
 * scraper's (or Prometheus's) request over it and answers with the exporter's
 * response. A terminal to such a host is a socket it dials back
 * (`/api/v1/connect/pty/<sid>`) that carries the terminal's own WebSocket.
 *
 * A socket whose host is removed, or no longer connects out, is closed by a
 * sweep each {@link SWEEP_SECONDS}; one silent for two pings is dropped.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { CLOSE_REMOVED, CLOSE_REPLACED, CONNECT_MAX_FRAME_BYTES, CONNECT_PING_SECONDS, decodeResponse } from '@vigil/core/connect';
import { CONNECT_PATH, ENROL_TYPES, EnrolError, verifyHostMessage } from '@vigil/core/enrolment';
import type { Logger } from '@vigil/core/log';
import { type Database, relayedTargets, rememberNonce, targetByThumbprint } from '@vigil/db';
import type { Kysely } from 'kysely';
import { createWebSocketStream, type WebSocket, WebSocketServer } from 'ws';

/** How often sockets are checked against their hosts (removed, no longer connecting out), seconds. */
export const SWEEP_SECONDS = 5;

/** A relayed response. */
export interface RelayedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Why a relay failed: the host is not connected, or did not answer in time. */
export class RelayError extends Error {
  override name = 'RelayError';
  constructor(
    readonly code: 'not_connected' | 'timeout' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

/** What the relay needs of a connected host, kept with its socket (refreshed at each sweep): no query per scrape. */
export interface ConnectedHost {
  name: string;
  /** Its scrape credential (the relay checks callers against it). */
  token: string | null;
  timeoutSeconds: number;
}

interface Connection extends ConnectedHost {
  ws: WebSocket;
  targetId: number;
  thumbprint: string;
  pending: Map<number, { resolve: (r: RelayedResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>;
  alive: boolean;
}

function refuse(socket: Duplex, status: number, text: string, message: string): void {
  const body = JSON.stringify({ error: { code: text.toLowerCase().replaceAll(' ', '_'), message } });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The connected hosts of this console, by target id. */
export class ConnectHub {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: CONNECT_MAX_FRAME_BYTES, perMessageDeflate: false });
  readonly #byTarget = new Map<number, Connection>();
  /** Terminal dial-backs awaited: sid → the host's target id and who waits. */
  readonly #dialBacks = new Map<string, { targetId: number; resolve: (d: Duplex) => void; timer: NodeJS.Timeout }>();
  #nextId = 1;
  readonly #pinger: NodeJS.Timeout;
  readonly #sweeper: NodeJS.Timeout;

  constructor(private readonly o: { db: () => Promise<Kysely<Database>>; log: Logger }) {
    this.#pinger = setInterval(() => this.#ping(), CONNECT_PING_SECONDS * 1000);
    this.#pinger.unref();
    this.#sweeper = setInterval(
      () => void this.sweep().catch((e: Error) => this.o.log.warn({ err: e.message }, 'connect sweep failed')),
      SWEEP_SECONDS * 1000,
    );
    this.#sweeper.unref();
  }

  /** How many hosts are connected. */
  get size(): number {
    return this.#byTarget.size;
  }

  /** Whether a host is connected now. */
  connected(targetId: number): boolean {
    return this.#byTarget.has(targetId);
  }

  /** A connected host's name, credential and timeout as last read (at its connection or the last sweep), or undefined. */
  host(targetId: number): ConnectedHost | undefined {
    const c = this.#byTarget.get(targetId);
    return c && { name: c.name, token: c.token, timeoutSeconds: c.timeoutSeconds };
  }

  /**
   * Takes an upgrade to `/api/v1/connect` (a host connecting) or
   * `/api/v1/connect/pty/<sid>` (a host dialling back for a terminal). The
   * `Authorization: Bearer` must be a `connect` message signed by an enrolled
   * host's key, never seen before; else 401/404 with what was wrong.
   */
  async handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const path = (req.url ?? '').split('?')[0]!;
    const sid = path.startsWith(`${CONNECT_PATH}/pty/`) ? decodeURIComponent(path.slice(CONNECT_PATH.length + 5)) : null;
    if (path !== CONNECT_PATH && sid === null) return refuse(socket, 404, 'Not Found', 'no such socket');
    const auth = req.headers.authorization ?? '';
    const jws = auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7).trim() : '';
    let thumbprint: string;
    const db = await this.o.db();
    try {
      const msg = await verifyHostMessage(jws, ENROL_TYPES.connect);
      if (!(await rememberNonce(db, msg.jti, msg.expiresAt)))
        return refuse(socket, 409, 'Conflict', 'this signed request was used before (a replay)');
      thumbprint = msg.thumbprint;
    } catch (e) {
      if (e instanceof EnrolError) return refuse(socket, 401, 'Unauthorized', e.message);
      throw e;
    }
    const target = await targetByThumbprint(db, thumbprint);
    if (!target) return refuse(socket, 404, 'Not Found', 'no host is enrolled with this key; enrol it again (VIGIL_ENROL_TOKEN)');
    if (!target.connects_out)
      return refuse(
        socket,
        409,
        'Conflict',
        `${target.name} is enrolled with a URL, not to connect out; restart its exporter with VIGIL_CONNECT=1`,
      );
    if (sid !== null) {
      const wait = this.#dialBacks.get(sid);
      if (!wait || wait.targetId !== target.id) return refuse(socket, 404, 'Not Found', 'no terminal is waiting for this host');
      this.#dialBacks.delete(sid);
      clearTimeout(wait.timer);
      this.#wss.handleUpgrade(req, socket, head, (ws) => wait.resolve(createWebSocketStream(ws)));
      return;
    }
    const host = { name: target.name, token: target.token, timeoutSeconds: target.timeout_seconds };
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#register(ws, target.id, host, thumbprint));
  }

  #register(ws: WebSocket, targetId: number, host: ConnectedHost, thumbprint: string): void {
    const before = this.#byTarget.get(targetId);
    if (before) before.ws.close(CLOSE_REPLACED, 'another connection of this host took its place');
    const name = host.name;
    const c: Connection = { ...host, ws, targetId, thumbprint, pending: new Map(), alive: true };
    this.#byTarget.set(targetId, c);
    this.o.log.info({ host: name, id: targetId }, 'host connected');
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const f = isBinary ? decodeResponse(data) : null;
      if (!f) return void this.o.log.warn({ host: name }, 'a connected host sent a frame the console does not read; dropped');
      const p = c.pending.get(f.header.id);
      if (!p) return;
      c.pending.delete(f.header.id);
      clearTimeout(p.timer);
      p.resolve({ status: f.header.status, headers: f.header.headers, body: f.body });
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      for (const p of c.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new RelayError('closed', `the connection to ${name} closed before it answered`));
      }
      c.pending.clear();
      if (this.#byTarget.get(targetId) === c) {
        this.#byTarget.delete(targetId);
        this.o.log.info({ host: name, id: targetId }, 'host disconnected');
      }
    });
  }

  #ping(): void {
    for (const c of this.#byTarget.values()) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /**
   * Relays a request to a connected host's exporter and resolves with its answer.
   * @throws RelayError (not_connected, timeout, closed)
   */
  relay(
    targetId: number,
    req: { method: 'GET' | 'HEAD'; path: string; headers: Record<string, string>; remote?: string },
    timeoutSeconds: number,
  ): Promise<RelayedResponse> {
    const c = this.#byTarget.get(targetId);
    if (!c) return Promise.reject(new RelayError('not_connected', 'this host is not connected to the console (its exporter connects out)'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        c.pending.delete(id);
        reject(new RelayError('timeout', `${c.name} did not answer within ${timeoutSeconds} s`));
      }, timeoutSeconds * 1000);
      c.pending.set(id, { resolve, reject, timer });
      c.ws.send(JSON.stringify({ type: 'request', id, ...req }));
    });
  }

  /**
   * A socket to a connected host's PTY server: the host is asked to dial back,
   * and that socket (as a stream) carries the terminal's WebSocket.
   * @throws RelayError (not_connected, timeout)
   */
  tunnel(targetId: number, timeoutSeconds = 10): Promise<Duplex> {
    const c = this.#byTarget.get(targetId);
    if (!c) return Promise.reject(new RelayError('not_connected', 'this host is not connected to the console (its exporter connects out)'));
    const sid = randomBytes(18).toString('base64url');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#dialBacks.delete(sid);
        reject(new RelayError('timeout', `${c.name} did not dial back within ${timeoutSeconds} s for the terminal`));
      }, timeoutSeconds * 1000);
      this.#dialBacks.set(sid, { targetId, resolve, timer });
      c.ws.send(JSON.stringify({ type: 'pty', sid }));
    });
  }

  /** Closes the sockets of hosts removed, or whose key or mode changed. @returns how many were closed */
  async sweep(): Promise<number> {
    if (this.#byTarget.size === 0) return 0;
    const db = await this.o.db();
    const rows = await relayedTargets(db, [...this.#byTarget.keys()]);
    const live = new Map(rows.map((r) => [r.id, r]));
    let closed = 0;
    for (const c of [...this.#byTarget.values()]) {
      const r = live.get(c.targetId);
      if (r?.connects_out && r.key_thumbprint === c.thumbprint) {
        Object.assign(c, { name: r.name, token: r.token, timeoutSeconds: r.timeout_seconds });
        continue;
      }
      this.o.log.info({ host: c.name, id: c.targetId }, 'host removed: its connection is closed');
      c.ws.close(CLOSE_REMOVED, 'this host was removed from the console');
      this.#byTarget.delete(c.targetId);
      closed++;
    }
    return closed;
  }

  /** Closes every socket and stops the timers. */
  close(): void {
    clearInterval(this.#pinger);
    clearInterval(this.#sweeper);
    for (const c of this.#byTarget.values()) c.ws.close(1001, 'console stopping');
    this.#byTarget.clear();
  }
}

/** Where hooks.server.ts hands the console's server (src/server.ts) the connect-out upgrade handler. */
export const CONNECT_UPGRADE_HANDLER = Symbol.for('vigil.console.connect-upgrade');

let hub: ConnectHub | null = null;

/** This console's hub, made on first use. */
export async function connectHub(): Promise<ConnectHub> {
  if (!hub) {
    const { getDb } = await import('./db');
    const { log } = await import('./log');
    hub ??= new ConnectHub({ db: getDb, log: log() });
  }
  return hub;
}
