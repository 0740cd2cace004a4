/**
 * The exporter's PTY socket (`/pty`): a WebSocket the console opens with a
 * ticket it signed, carrying a shell on this host, a shell in one of its
 * containers (Docker exec with a TTY), or a container's logs (read-only).
 *
 * Nothing is spawned before the ticket is verified: a request without a good
 * one is answered HTTP 401 at the upgrade and logged with the reason (never the
 * ticket). Each session is bounded: frames of at most 64 KiB, an idle timeout,
 * a maximum duration, and flow control (the process is paused while more than
 * {@link HIGH_WATER_BYTES} sent to the socket are unwritten, resumed below
 * {@link LOW_WATER_BYTES}), so a `yes` cannot fill memory.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@vigil/core/log';
import {
  CLOSE_SESSION_ENDED,
  PTY_MAX_FRAME_BYTES,
  PTY_PATH,
  parseClientControl,
  REFUSAL_TEXT,
  type ServerControl,
  type Ticket,
  type TicketVerifier,
} from '@vigil/core/pty';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ProcessFactory, SessionProcess, ShellSpec } from './pty-processes.js';

export { type ProcessFactory, processFactory, type SessionProcess, type ShellSpec } from './pty-processes.js';

/** Unwritten bytes on the socket above which the process is paused. */
export const HIGH_WATER_BYTES = 256 * 1024;
/** Unwritten bytes below which a paused process is resumed. */
export const LOW_WATER_BYTES = 64 * 1024;
/** Output of at least this many bytes in one turn (a flood fills the pty's 4 KiB reads)… */
const GATHER_FROM_BYTES = 2048;
/** …is gathered for up to this long, ms, into one frame of at most 64 KiB. */
const GATHER_MS = 2;

/** The PTY socket's settings (VIGIL_PTY_*). */
export interface PtyOptions {
  /** Open sessions at most (VIGIL_PTY_MAX_SESSIONS). */
  maxSessions: number;
  /** A session without input for this long ends, seconds (VIGIL_PTY_IDLE_TIMEOUT); logs sessions have none. */
  idleSeconds: number;
  /** A session ends after this long, seconds (VIGIL_PTY_MAX_DURATION). */
  maxDurationSeconds: number;
  shell: ShellSpec;
  /** The command of a shell in a container (default /bin/sh). */
  containerShell: readonly string[];
}

/** Refuses an upgrade with a plain HTTP answer and closes the connection. */
function refuse(socket: Duplex, status: number, statusText: string, code: string, message: string, extra = ''): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

/** One open session, as the exporter counts it. */
interface OpenSession {
  ws: WebSocket;
  end(reason: string): void;
}

/**
 * Serves `/pty` upgrades: verifies the ticket, counts the session against the
 * limit, starts the process the ticket names, and relays it.
 */
export class PtyServer {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: PTY_MAX_FRAME_BYTES, perMessageDeflate: false });
  readonly #open = new Set<OpenSession>();
  /** Upgrades past the ticket check whose process is starting (they hold a place). */
  #starting = 0;

  /** Sets the exporter id tickets must name (an enrolled host's name). */
  setAudience(id: string): void {
    this.verifier.audience = id;
  }

  constructor(
    private readonly verifier: TicketVerifier,
    private readonly options: PtyOptions,
    private readonly start: ProcessFactory,
    private readonly log: Logger,
  ) {}

  /** The path it serves. */
  readonly path = PTY_PATH;

  /** Sessions open now (exported as vigil_exporter_pty_sessions). */
  get sessions(): number {
    return this.#open.size;
  }

  /** Handles an HTTP upgrade to `/pty`; anything else is the caller's. */
  async handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const remote = req.socket.remoteAddress;
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      refuse(socket, 400, 'Bad Request', 'bad_request', '/pty is a WebSocket');
      return;
    }
    const verdict = await this.verifier.verify(req.headers.authorization);
    if (!verdict.ok) {
      this.log.warn({ remote, reason: verdict.reason }, `pty ticket refused: ${REFUSAL_TEXT[verdict.reason]}`);
      refuse(
        socket,
        401,
        'Unauthorized',
        `ticket_${verdict.reason}`,
        REFUSAL_TEXT[verdict.reason],
        'WWW-Authenticate: Bearer realm="vigil-pty"\r\n',
      );
      return;
    }
    const { ticket } = verdict;
    if (this.#open.size + this.#starting >= this.options.maxSessions) {
      this.log.warn({ remote, user: ticket.subject, limit: this.options.maxSessions }, 'pty session refused: the limit is reached');
      refuse(
        socket,
        503,
        'Service Unavailable',
        'too_many_sessions',
        `this host allows ${this.options.maxSessions} terminal sessions at once (VIGIL_PTY_MAX_SESSIONS)`,
      );
      return;
    }
    this.#starting++;
    let proc: SessionProcess;
    try {
      proc = await this.start(ticket);
    } catch (e) {
      this.#starting--;
      const message = (e as Error).message;
      this.log.warn(
        { user: ticket.subject, kind: ticket.grant.kind, container: ticket.grant.container, err: message },
        'pty session could not start',
      );
      refuse(socket, 502, 'Bad Gateway', 'start_failed', message);
      return;
    }
    this.#starting--;
    if (socket.destroyed) {
      proc.kill();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#relay(ws, proc, ticket, remote));
  }

  #relay(ws: WebSocket, proc: SessionProcess, ticket: Ticket, remote: string | undefined): void {
    const { grant } = ticket;
    const started = Date.now();
    let bytesIn = 0;
    let bytesOut = 0;
    let unwritten = 0;
    let paused = false;
    let closed = false;
    const control = (m: ServerControl) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const session: OpenSession = {
      ws,
      end: (reason) => {
        control({ type: 'error', message: reason });
        ws.close(CLOSE_SESSION_ENDED, reason.slice(0, 120));
      },
    };
    this.#open.add(session);
    this.log.info({ user: ticket.subject, kind: grant.kind, container: grant.container, remote }, 'pty session started');

    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      if (grant.kind === 'logs' || this.options.idleSeconds <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(
        () => session.end(`no input for ${this.options.idleSeconds} s (VIGIL_PTY_IDLE_TIMEOUT)`),
        this.options.idleSeconds * 1000,
      );
    };
    touch();
    const longest = setTimeout(
      () => session.end(`the session reached its maximum duration of ${this.options.maxDurationSeconds} s (VIGIL_PTY_MAX_DURATION)`),
      this.options.maxDurationSeconds * 1000,
    );

    control({ type: 'ready', kind: grant.kind });
    // Output is sent in frames of up to 64 KiB, not one per read of the pty
    // (at most 4 KiB): a frame per read would cost every hop's JavaScript 16
    // times over during a flood. Small output (an echo, a prompt) goes out at
    // the end of the turn that read it, never held; bulk output (a turn's
    // reads of GATHER_FROM_BYTES or more) is gathered for up to GATHER_MS.
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let soon: NodeJS.Immediate | null = null;
    let later: NodeJS.Timeout | null = null;
    const flush = () => {
      if (soon) clearImmediate(soon);
      if (later) clearTimeout(later);
      soon = later = null;
      if (batchBytes === 0) return;
      const frame = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
      batch = [];
      batchBytes = 0;
      if (closed) return;
      const n = frame.length;
      bytesOut += n;
      unwritten += n;
      ws.send(frame, { binary: true }, () => {
        unwritten -= n;
        if (paused && unwritten < LOW_WATER_BYTES && !closed) {
          paused = false;
          proc.resume();
        }
      });
      if (!paused && unwritten > HIGH_WATER_BYTES) {
        paused = true;
        proc.pause();
      }
    };
    proc.onData((data) => {
      if (closed) return;
      for (let at = 0; at < data.length; at += PTY_MAX_FRAME_BYTES) {
        const piece = data.subarray(at, at + PTY_MAX_FRAME_BYTES);
        if (batchBytes + piece.length > PTY_MAX_FRAME_BYTES) flush();
        batch.push(piece);
        batchBytes += piece.length;
      }
      if (batchBytes === 0 || soon || later) return;
      if (batchBytes >= GATHER_FROM_BYTES) later = setTimeout(flush, GATHER_MS);
      else soon = setImmediate(flush);
    });
    proc.onExit((code, signal) => {
      if (closed) return;
      // The last output before the exit message.
      flush();
      control({ type: 'exit', code, signal });
      ws.close(1000, 'exited');
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        if (!proc.writable) return;
        bytesIn += data.length;
        touch();
        proc.write(data);
        return;
      }
      const parsed = parseClientControl(data.toString('utf8'));
      if (!parsed.ok) {
        control({ type: 'error', message: parsed.error });
        return;
      }
      if (parsed.value.type === 'resize') {
        touch();
        proc.resize(parsed.value.cols, parsed.value.rows);
      }
    });
    ws.on('close', (code) => {
      closed = true;
      flush(); // drops what was gathered, and its timer
      clearTimeout(idle);
      clearTimeout(longest);
      this.#open.delete(session);
      proc.kill();
      this.log.info(
        {
          user: ticket.subject,
          kind: grant.kind,
          container: grant.container,
          seconds: Math.round((Date.now() - started) / 1000),
          bytesIn,
          bytesOut,
          code,
        },
        'pty session ended',
      );
    });
    ws.on('error', () => {});
  }

  /** Ends every session (shutdown). */
  close(reason = 'the exporter is stopping'): void {
    for (const s of this.#open) s.end(reason);
    this.#wss.close();
  }
}
