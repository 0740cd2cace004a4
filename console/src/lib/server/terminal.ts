/**
 * Terminals: the console's side of the PTY socket. A browser opens
 * `/ws/terminal/<target id>` on the console (never an exporter); the console
 * checks the session cookie, the role (developer or above) and the Origin
 * (exactly its own), mints a ticket for that host, opens the exporter's `/pty`
 * server-side, and relays.
 *
 * - Flow control on both hops: the browser acknowledges the bytes xterm.js has
 *   drawn (`ack`); past {@link HIGH_WATER_BYTES} unacknowledged the console
 *   stops reading the exporter's socket, whose own flow control then pauses
 *   the process. A browser that is behind gets its output in frames of up to
 *   64 KiB ({@link TerminalFeed}).
 * - A dropped browser connection does not end the shell: the session waits
 *   {@link TerminalOptions.graceSeconds} with its last {@link SCROLLBACK_BYTES}
 *   of output, and the page re-attaches with the session id and the output
 *   offset it has drawn up to.
 * - Every session is a `terminal_sessions` row; signing out, or losing the
 *   role, ends the user's terminals.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from '@vigil/core/log';
import {
  CLOSE_REFUSED,
  CLOSE_SESSION_ENDED,
  mintTicket,
  PTY_MAX_FRAME_BYTES,
  parseClientControl,
  type ServerControl,
  type SessionKind,
  type TicketKey,
} from '@vigil/core/pty';
import { type Database, endTerminalSession, getTarget, roleAtLeast, startTerminalSession, type Target } from '@vigil/db';
import type { Kysely } from 'kysely';
import { WebSocket, WebSocketServer } from 'ws';
import { authenticate, SESSION_COOKIE } from './auth';
import { CastRecorder } from './cast-recorder';
import { hostAllowed } from './config';
import { connectHub } from './connect';
import { registerStream } from './live';
import { TerminalFeed } from './terminal-feed';
import { clientAddressOf, cookieOf } from './upgrade-request';

/** Output bytes sent to the browser and not yet drawn, above which the console stops reading the host. */
export const HIGH_WATER_BYTES = 512 * 1024;
/** …and below which it reads again. */
export const LOW_WATER_BYTES = 128 * 1024;
/** Output kept per session for a browser that re-attaches. */
export const SCROLLBACK_BYTES = 256 * 1024;

/** What the terminal hub needs. */
export interface TerminalOptions {
  db: () => Promise<Kysely<Database>>;
  origin: URL;
  session: { maxAgeSeconds: number; idleSeconds: number };
  /** The console's Ed25519 private key; null: terminals are off. */
  key: TicketKey | null;
  /** How long a session waits for its browser to come back, seconds (VIGIL_TERMINAL_GRACE). */
  graceSeconds: number;
  /** Reverse proxies in front (X-Forwarded-For depth); 0: the peer is the client. */
  proxyHops: number;
  log: Logger;
  /** Where sessions are recorded as asciicast v2 (`<row id>.cast`), output and resizes only; null: not recorded. */
  recordDir?: string | null;
}

/** The PTY socket of a target: `pty_url`, else its metrics URL's host and port with /pty (ws or wss). */
export function ptyUrlOf(target: Pick<Target, 'url' | 'pty_url'>): string {
  if (target.pty_url) return target.pty_url;
  const u = new URL(target.url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.username = '';
  u.password = '';
  u.pathname = '/pty';
  u.search = '';
  u.hash = '';
  return u.toString();
}

function refuse(socket: Duplex, status: number, text: string, message: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`,
  );
}

/** One terminal: the upstream socket to the exporter, and the browser attached to it (if any). */
class TerminalSession {
  readonly id = randomBytes(18).toString('base64url');
  browser: WebSocket | null = null;
  upstream: WebSocket | null = null;
  /** The last output, for re-attaching: chunks, their total, and the absolute offset of the first. */
  readonly ring: Buffer[] = [];
  ringBytes = 0;
  ringStart = 0;
  /** Output bytes so far (the offset of the next). */
  offset = 0;
  bytesIn = 0;
  /** Output on its way to the attached browser; null while none is attached. */
  feed: TerminalFeed | null = null;
  upstreamPaused = false;
  ended = false;
  exit: { code: number | null; signal: string | null } | null = null;
  grace: NodeJS.Timeout | undefined;
  rowId: string | null = null;
  forget: () => void = () => {};
  recorder: CastRecorder | null = null;
  /** Keystrokes, and the last resize, from before the exporter's socket opened. */
  readonly queued: Buffer[] = [];
  queuedResize: string | null = null;

  constructor(
    readonly userId: number,
    readonly userName: string,
    readonly cookie: string,
    readonly target: Target,
    readonly kind: SessionKind,
  ) {}

  /** Keeps output for re-attaching, dropping the oldest chunks past the cap. */
  keep(data: Buffer): void {
    this.ring.push(data);
    this.ringBytes += data.length;
    this.offset += data.length;
    while (this.ringBytes - (this.ring[0]?.length ?? 0) >= SCROLLBACK_BYTES) {
      const first = this.ring.shift()!;
      this.ringBytes -= first.length;
      this.ringStart += first.length;
    }
  }

  /** The kept output from `from` on (or from the oldest kept byte), and where it starts. */
  since(from: number): { start: number; chunks: Buffer[] } {
    const start = from >= this.ringStart && from <= this.offset ? from : this.ringStart;
    const chunks: Buffer[] = [];
    let at = this.ringStart;
    for (const c of this.ring) {
      const end = at + c.length;
      if (end > start) chunks.push(start > at ? c.subarray(start - at) : c);
      at = end;
    }
    return { start, chunks };
  }
}

/**
 * The console's terminals: upgrades to `/ws/terminal/<id>` and the sessions
 * they open or re-attach to.
 */
export class TerminalHub {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: PTY_MAX_FRAME_BYTES, perMessageDeflate: false });
  readonly #sessions = new Map<string, TerminalSession>();
  /** Audit rows being written for sessions that ended (awaited at shutdown). */
  readonly #writes = new Set<Promise<void>>();

  constructor(private readonly o: TerminalOptions) {}

  /** Sessions open now (attached or waiting for their browser). */
  get size(): number {
    return this.#sessions.size;
  }

  /** Handles an HTTP upgrade; refuses with 4xx what it does not allow (nothing reaches a host before). */
  async handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', this.o.origin);
    const m = /^\/ws\/terminal\/(\d{1,9})$/.exec(url.pathname);
    if (!m) return refuse(socket, 404, 'Not Found', 'no such socket');
    if (!hostAllowed(req.headers.host ?? null, this.o.origin)) return refuse(socket, 421, 'Misdirected Request', 'wrong host');
    const origin = req.headers.origin ?? null;
    const client = clientAddressOf(req, this.o.proxyHops);
    if (origin !== this.o.origin.origin) {
      this.o.log.warn({ origin, client }, 'terminal refused: foreign Origin');
      return refuse(socket, 403, 'Forbidden', `terminals open only from ${this.o.origin.origin}`);
    }
    const cookie = cookieOf(req, SESSION_COOKIE);
    const db = await this.o.db();
    const principal = cookie ? await authenticate(db, { session: cookie }, this.o.session) : null;
    if (!principal) return refuse(socket, 401, 'Unauthorized', 'sign in first');
    const { user } = principal;
    if (!roleAtLeast(user.role, 'developer')) {
      this.o.log.warn({ user: user.name, role: user.role }, 'terminal refused: needs the developer role');
      return refuse(socket, 403, 'Forbidden', `terminals need the developer role or above; ${user.name} is ${user.role}`);
    }
    if (!this.o.key) return refuse(socket, 503, 'Service Unavailable', 'terminals are off: VIGIL_CONSOLE_PRIVATE_KEY is not set');

    const attach = url.searchParams.get('attach');
    if (attach) {
      const s = this.#sessions.get(attach);
      if (!s || s.ended || s.userId !== user.id || s.target.id !== Number(m[1]))
        return refuse(socket, 410, 'Gone', 'that terminal session has ended');
      const from = Number(url.searchParams.get('offset') ?? 0);
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(s, ws, Number.isFinite(from) ? from : 0, true));
      return;
    }

    const target = await getTarget(db, Number(m[1]));
    if (!target) return refuse(socket, 404, 'Not Found', 'no such host');
    const container = url.searchParams.get('container');
    const logs = url.searchParams.get('logs');
    const kind: SessionKind = logs ? 'logs' : container ? 'exec' : 'shell';
    const dim = (name: string, d: number) => {
      const v = Number(url.searchParams.get(name));
      return Number.isInteger(v) && v >= 1 && v <= 1000 ? v : d;
    };
    const s = new TerminalSession(user.id, user.name, cookie!, target, kind);
    this.#sessions.set(s.id, s);
    s.rowId = await startTerminalSession(db, {
      userId: user.id,
      userName: user.name,
      targetId: target.id,
      targetName: target.name,
      kind,
      container: logs ?? container,
      origin,
      clientIp: client,
    });
    // Signing out, or a change to the account: still entitled, or ended.
    s.forget = registerStream(user.id, () => void this.#recheck(s));
    if (this.o.recordDir)
      s.recorder = new CastRecorder(path.join(this.o.recordDir, `${s.rowId}.cast`), {
        cols: dim('cols', 80),
        rows: dim('rows', 24),
        title: `${user.name}@${target.name}${container || logs ? ` ${logs ?? container}` : ''}`,
      });
    this.o.log.info({ user: user.name, host: target.name, kind, container: logs ?? container, client }, 'terminal opened');
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#attach(s, ws, 0, false);
      void this.#connect(s, {
        kind,
        container: logs ?? container ?? undefined,
        tail: kind === 'logs' ? dim('tail', 200) : undefined,
        cols: dim('cols', 80),
        rows: dim('rows', 24),
      });
    });
  }

  async #connect(s: TerminalSession, grant: Parameters<typeof mintTicket>[1]['grant']): Promise<void> {
    // A host that connects out: its PTY socket is one it dials back to this console.
    const connected = s.target.connects_out;
    const to = connected ? 'ws://connected-host/pty' : ptyUrlOf(s.target);
    const ticket = await mintTicket(this.o.key!, { audience: s.target.name, subject: s.userName, grant, lifetimeSeconds: 30 });
    let tunnel: Duplex | null = null;
    if (connected) {
      try {
        tunnel = await (await connectHub()).tunnel(s.target.id);
      } catch (e) {
        return this.#finish(s, `cannot reach ${s.target.name}: ${(e as Error).message}`, CLOSE_REFUSED);
      }
    }
    if (s.ended) return void tunnel?.destroy();
    const up = new WebSocket(to, {
      headers: { authorization: `Bearer ${ticket}` },
      maxPayload: PTY_MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      ...(tunnel ? { createConnection: () => tunnel as never } : {}),
    });
    s.upstream = up;
    up.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        if (body.length < 2000) body += c.toString('utf8');
      });
      res.on('end', () => {
        let message = `HTTP ${res.statusCode}`;
        try {
          const { error } = JSON.parse(body) as { error: { code: string; message: string } };
          message = error.message;
          // What only the console knows: the id it signed the ticket for.
          if (error.code === 'ticket_audience')
            message += `; this console signs tickets for this host as "${s.target.name}" (the target's name): set VIGIL_EXPORTER_ID=${s.target.name} on its exporter, or rename the target to the exporter's id`;
        } catch {
          // not the exporter's JSON
        }
        this.#finish(s, `${s.target.name} refused the terminal: ${message}`, CLOSE_REFUSED);
      });
    });
    up.on('error', (e: NodeJS.ErrnoException) => {
      if (!s.ended) this.#finish(s, `cannot reach ${s.target.name}'s PTY socket at ${to}: ${e.code ?? e.message}`, CLOSE_REFUSED);
    });
    up.on('open', () => {
      if (s.queuedResize) up.send(s.queuedResize);
      s.queuedResize = null;
      for (const q of s.queued.splice(0)) up.send(q, { binary: true });
    });
    up.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        let m: ServerControl;
        try {
          m = JSON.parse(data.toString('utf8')) as ServerControl;
        } catch {
          return;
        }
        if (m.type === 'exit') s.exit = { code: m.code, signal: m.signal };
        if (m.type !== 'ready') this.#send(s, m);
        return;
      }
      s.keep(data);
      s.recorder?.output(data);
      s.feed?.push(data);
      this.#flow(s);
    });
    up.on('close', (code, reason) => {
      if (s.ended) return;
      const why = s.exit
        ? `exited${s.exit.code !== null ? ` with code ${s.exit.code}` : ''}${s.exit.signal ? ` (${s.exit.signal})` : ''}`
        : code === CLOSE_SESSION_ENDED
          ? reason.toString() || 'ended by the host'
          : `the connection to ${s.target.name} closed (${code})`;
      this.#finish(s, why, s.exit ? 1000 : CLOSE_SESSION_ENDED);
    });
  }

  /** Stops reading the host while the browser is behind (or gone and the scrollback is full); reads again once it catches up. */
  #flow(s: TerminalSession): void {
    const up = s.upstream;
    if (!up) return;
    const behind = s.feed ? s.feed.unacked + s.feed.held > HIGH_WATER_BYTES : s.ringBytes >= SCROLLBACK_BYTES;
    if (behind && !s.upstreamPaused) {
      s.upstreamPaused = true;
      up.pause();
    } else if (!behind && s.upstreamPaused && (!s.feed || s.feed.unacked < LOW_WATER_BYTES)) {
      s.upstreamPaused = false;
      up.resume();
    }
  }

  #send(s: TerminalSession, m: ServerControl): void {
    // Output held for the browser goes before the message (an exit comes after the last output).
    s.feed?.flush();
    if (s.browser?.readyState === WebSocket.OPEN) s.browser.send(JSON.stringify(m));
  }

  #attach(s: TerminalSession, ws: WebSocket, from: number, resumed: boolean): void {
    clearTimeout(s.grace);
    const previous = s.browser;
    s.browser = ws;
    if (previous && previous !== ws) previous.close(4001, 'attached elsewhere');
    const { start, chunks } = s.since(from);
    ws.send(JSON.stringify({ type: 'ready', kind: s.kind, session: s.id, offset: start, resumed } satisfies ServerControl));
    // What was held for the previous browser is in the kept output, sent now from `start`.
    s.feed = new TerminalFeed((frame) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame, { binary: true });
    });
    for (const c of chunks) s.feed.push(c);
    s.feed.flush();
    if (resumed) this.o.log.info({ user: s.userName, host: s.target.name }, 'terminal re-attached');
    this.#flow(s);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (s.browser !== ws || s.ended) return;
      if (isBinary) {
        if (s.kind === 'logs') return;
        s.bytesIn += data.length;
        if (s.upstream?.readyState === WebSocket.OPEN) s.upstream.send(data, { binary: true });
        else if (s.queued.length < 64) s.queued.push(Buffer.from(data));
        return;
      }
      const parsed = parseClientControl(data.toString('utf8'));
      if (!parsed.ok) return this.#send(s, { type: 'error', message: parsed.error });
      if (parsed.value.type === 'ack') {
        s.feed?.ack(parsed.value.bytes);
        this.#flow(s);
      } else {
        s.recorder?.resize(parsed.value.cols, parsed.value.rows);
        if (s.upstream?.readyState === WebSocket.OPEN) s.upstream.send(JSON.stringify(parsed.value));
        else s.queuedResize = JSON.stringify(parsed.value);
      }
    });
    ws.on('close', () => {
      if (s.browser !== ws) return;
      s.browser = null;
      // What was held for it stays in the kept output, for the next browser.
      s.feed = null;
      if (s.ended) return;
      if (this.o.graceSeconds <= 0) return this.#finish(s, 'the browser closed the terminal');
      s.grace = setTimeout(
        () => this.#finish(s, `the browser did not come back within ${this.o.graceSeconds} s`),
        this.o.graceSeconds * 1000,
      );
      this.#flow(s);
    });
    ws.on('error', () => {});
  }

  /** Ends a session the user may no longer have: signed out, or no longer a developer. */
  async #recheck(s: TerminalSession): Promise<void> {
    const principal = await authenticate(await this.o.db(), { session: s.cookie }, this.o.session).catch(() => null);
    if (!principal) return this.#finish(s, 'signed out');
    if (!roleAtLeast(principal.user.role, 'developer'))
      this.#finish(s, `${principal.user.name} is no longer allowed terminals (${principal.user.role})`);
  }

  #finish(s: TerminalSession, reason: string, code = CLOSE_SESSION_ENDED): void {
    if (s.ended) return;
    s.ended = true;
    clearTimeout(s.grace);
    s.forget();
    this.#sessions.delete(s.id);
    if (!s.exit) this.#send(s, { type: 'error', message: reason });
    s.browser?.close(code, reason.slice(0, 120));
    if (s.upstream && s.upstream.readyState !== WebSocket.CLOSED) s.upstream.close(1000, 'closed by the console');
    this.o.log.info(
      { user: s.userName, host: s.target.name, kind: s.kind, bytesIn: s.bytesIn, bytesOut: s.offset, reason },
      'terminal closed',
    );
    if (s.rowId) {
      const rowId = s.rowId;
      const recorder = s.recorder;
      const write = (recorder?.close() ?? Promise.resolve())
        .then(() => this.o.db())
        .then((db) =>
          endTerminalSession(db, rowId, {
            bytesIn: s.bytesIn,
            bytesOut: s.offset,
            exitCode: s.exit?.code ?? null,
            exitSignal: s.exit?.signal ?? null,
            reason,
            recording: recorder?.file ?? null,
          }),
        )
        .catch((err: unknown) => this.o.log.error({ err }, 'could not record the end of a terminal session'));
      this.#writes.add(write);
      void write.finally(() => this.#writes.delete(write));
    }
  }

  /** Ends every session (shutdown); resolves once every ended session's row is written. */
  async close(): Promise<void> {
    for (const s of [...this.#sessions.values()]) this.#finish(s, 'the console is stopping');
    this.#wss.close();
    await Promise.all([...this.#writes]);
  }
}

/** The name under which the console's own server finds the upgrade handler (its bundle and SvelteKit's are separate). */
export const UPGRADE_HANDLER = Symbol.for('vigil.console.terminal-upgrade');
/** …and the function that ends every terminal, their rows written, before the console stops. */
export const SHUTDOWN_HANDLER = Symbol.for('vigil.console.terminal-close');

let hub: Promise<TerminalHub> | null = null;

/** This console's terminal hub, made on first use from its configuration. @throws Error when the private key is not an Ed25519 key */
export function terminalHub(): Promise<TerminalHub> {
  hub ??= (async () => {
    const { consoleConfig } = await import('./config');
    const { getDb } = await import('./db');
    const { log } = await import('./log');
    const { importTicketPrivateKey } = await import('@vigil/core/pty');
    const c = consoleConfig();
    return new TerminalHub({
      db: getDb,
      origin: c.origin,
      session: c.session,
      key: c.terminalKeyPem ? await importTicketPrivateKey(c.terminalKeyPem) : null,
      graceSeconds: c.terminalGraceSeconds,
      proxyHops: c.proxyHops,
      log: log(),
      recordDir: c.terminalRecordDir,
    });
  })();
  return hub;
}

/** Ends this console's terminals, if it has opened any, once their audit rows are written. */
export async function closeTerminals(): Promise<void> {
  if (hub) await (await hub).close();
}
