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
import { closeSync, constants, openSync } from 'node:fs';
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
import type { ContainerCache, DockerClient } from './docker.js';
import { LogDemuxer } from './docker.js';

/** Unwritten bytes on the socket above which the process is paused. */
export const HIGH_WATER_BYTES = 256 * 1024;
/** Unwritten bytes below which a paused process is resumed. */
export const LOW_WATER_BYTES = 64 * 1024;
/** How long a host shell has to exit after the hang-up that ends its session, ms, before it is killed. */
const KILL_AFTER_MS = 5000;
/** Output of at least this many bytes in one turn (a flood fills the pty's 4 KiB reads)… */
const GATHER_FROM_BYTES = 2048;
/** …is gathered for up to this long, ms, into one frame of at most 64 KiB. */
const GATHER_MS = 2;

/** A running process behind a session: a host pty, a Docker exec, or a log stream. */
export interface SessionProcess {
  /** Whether keystrokes reach it (logs: no). */
  readonly writable: boolean;
  onData(cb: (data: Buffer) => void): void;
  /** Called once when it ends. */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  /** Ends it (SIGHUP for a host shell, as a terminal closing does, then SIGKILL if it is still there 5 s later). */
  kill(): void;
}

/** Who the host shell runs as, and how. */
export interface ShellSpec {
  shell: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Set only when the shell runs as another user than the exporter (the exporter runs as root). */
  uid?: number;
  gid?: number;
}

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

type PtyModule = typeof import('node-pty');

/**
 * Opens the pty's slave side (`/dev/pts/N`, from node-pty's UnixTerminal) so
 * that it stays open after the shell exits. On Linux the master's reads fail
 * with EIO as soon as the last holder of the slave closes it, and output the
 * kernel still held is lost (node-pty #85, #726): measured here, 22 of 80
 * runs of a command that exits right after writing lost up to 14.8 KB of it;
 * with the slave held, none. Node-pty then reads everything and ends the
 * session 200 ms after the shell exits (its socket-destroy delay).
 * @returns a function that closes it again, or a no-op where the slave cannot be named or opened
 */
function holdSlave(p: unknown): () => void {
  const name = (p as { _pty?: unknown })._pty;
  if (typeof name !== 'string' || !name.startsWith('/dev/')) return () => {};
  let fd: number | null;
  try {
    fd = openSync(name, constants.O_RDWR | constants.O_NOCTTY);
  } catch {
    return () => {};
  }
  return () => {
    if (fd === null) return;
    closeSync(fd);
    fd = null;
  };
}

/** A host shell in a pseudo-terminal (node-pty); all of its output is read, even that of its last moments (see holdSlave). */
export function hostShell(pty: PtyModule, spec: ShellSpec, cols: number, rows: number): SessionProcess {
  const p = pty.spawn(spec.shell, [...spec.args], {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: spec.cwd,
    env: spec.env,
    uid: spec.uid,
    gid: spec.gid,
    // Buffers, not strings: bytes are relayed as they are, never re-encoded.
    encoding: null,
  });
  const release = holdSlave(p);
  let exited = false;
  p.onExit(() => {
    exited = true;
    release();
  });
  return {
    writable: true,
    onData: (cb) => p.onData((d) => cb(d as unknown as Buffer)),
    onExit: (cb) => p.onExit(({ exitCode, signal }) => cb(signal ? null : exitCode, signal ? signalName(signal) : null)),
    write: (d) => p.write(d as unknown as string),
    resize: (c, r) => {
      try {
        p.resize(c, r);
      } catch {
        // it has exited meanwhile
      }
    },
    pause: () => p.pause(),
    resume: () => p.resume(),
    kill: () => {
      if (exited) return;
      try {
        p.kill('SIGHUP');
      } catch {
        return; // already gone
      }
      // A shell that ignores the hang-up (trap '' HUP) does not outlive its session.
      const hard = setTimeout(() => {
        try {
          p.kill('SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, KILL_AFTER_MS);
      hard.unref();
      p.onExit(() => clearTimeout(hard));
    },
  };
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 15: 'SIGTERM' };
function signalName(n: number): string {
  return SIGNALS[n] ?? `signal ${n}`;
}

/** A shell in a container: Docker exec with a TTY over the API's upgraded stream. */
export async function containerShell(
  docker: DockerClient,
  container: string,
  cmd: readonly string[],
  cols: number,
  rows: number,
): Promise<SessionProcess> {
  const { id, socket } = await docker.openExec(container, cmd, { cols, rows });
  return streamProcess(socket, {
    writable: true,
    resize: (c, r) => void docker.resizeExec(id, c, r).catch(() => {}),
    exitCode: () => docker.execExitCode(id).catch(() => null),
  });
}

/**
 * A container's logs, followed: the last `tail` lines then what comes. stdout
 * and stderr are demultiplexed (stderr drawn red) unless the container has a
 * TTY; bare line feeds become CR LF for the terminal.
 */
export async function containerLogs(docker: DockerClient, container: string, tail: number): Promise<SessionProcess> {
  const abort = new AbortController();
  const { stream, tty } = await docker.followLogs(container, tail, abort.signal);
  const demux = tty ? null : new LogDemuxer();
  let lastCr = false;
  const crlf = (b: Buffer): Buffer => {
    // LF → CR LF unless already preceded by CR; one pass over the bytes.
    let lfs = 0;
    for (let i = 0; i < b.length; i++) if (b[i] === 10 && !(i === 0 ? lastCr : b[i - 1] === 13)) lfs++;
    const out = lfs ? Buffer.allocUnsafe(b.length + lfs) : b;
    if (lfs) {
      let j = 0;
      for (let i = 0; i < b.length; i++) {
        if (b[i] === 10 && !(i === 0 ? lastCr : b[i - 1] === 13)) out[j++] = 13;
        out[j++] = b[i]!;
      }
    }
    if (b.length) lastCr = b[b.length - 1] === 13;
    return out;
  };
  const RED = Buffer.from('\x1b[31m');
  const RESET = Buffer.from('\x1b[0m');
  const listeners: Array<(d: Buffer) => void> = [];
  const emit = (d: Buffer) => {
    for (const l of listeners) l(d);
  };
  stream.on('data', (chunk: Buffer) => {
    if (!demux) return emit(crlf(chunk));
    demux.push(chunk, (s, data) => emit(s === 2 ? Buffer.concat([RED, crlf(data), RESET]) : crlf(data)));
  });
  let exitCb: ((code: number | null, signal: string | null) => void) | null = null;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    exitCb?.(null, null);
  };
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
  return {
    writable: false,
    onData: (cb) => listeners.push(cb),
    onExit: (cb) => {
      exitCb = cb;
      if (ended) cb(null, null);
    },
    write: () => {},
    resize: () => {},
    pause: () => stream.pause(),
    resume: () => stream.resume(),
    kill: () => abort.abort(),
  };
}

function streamProcess(
  socket: Duplex,
  o: { writable: boolean; resize: (c: number, r: number) => void; exitCode: () => Promise<number | null> },
): SessionProcess {
  let exitCb: ((code: number | null, signal: string | null) => void) | null = null;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    void o.exitCode().then((code) => exitCb?.(code, null));
  };
  socket.on('end', end);
  socket.on('close', end);
  socket.on('error', end);
  return {
    writable: o.writable,
    onData: (cb) => socket.on('data', cb),
    onExit: (cb) => {
      exitCb = cb;
    },
    write: (d) => {
      if (!socket.destroyed) socket.write(d);
    },
    resize: o.resize,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    kill: () => socket.destroy(),
  };
}

/** What a session's process comes from; tests give their own. */
export type ProcessFactory = (ticket: Ticket) => Promise<SessionProcess>;

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

/**
 * The process a ticket names: a host shell, a shell in a container, or a
 * container's logs. A container must be one this exporter reports (the
 * VIGIL_CONTAINER_LABEL filter applies) and, for a shell, running.
 */
export function processFactory(
  options: PtyOptions,
  loadPty: () => Promise<PtyModule>,
  docker: { client: DockerClient; containers: ContainerCache } | null,
): ProcessFactory {
  return async (ticket) => {
    const { grant } = ticket;
    const cols = grant.cols ?? 80;
    const rows = grant.rows ?? 24;
    if (grant.kind === 'shell') return hostShell(await loadPty(), options.shell, cols, rows);
    if (!docker) throw new Error('container metrics are off on this host (no Docker socket), so there is no container to open');
    const name = grant.container!;
    const found = (await docker.containers.list()).find((c) => c.name === name || (name.length >= 12 && c.id.startsWith(name)));
    if (!found) throw new Error(`no container named ${name} on this host`);
    if (grant.kind === 'logs') return containerLogs(docker.client, found.id, grant.tail ?? 200);
    if (found.state !== 'running') throw new Error(`container ${found.name} is ${found.state}, not running`);
    return containerShell(docker.client, found.id, options.containerShell, cols, rows);
  };
}
