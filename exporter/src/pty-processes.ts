/**
 * What runs behind a PTY session: a host shell in a pseudo-terminal (node-pty),
 * a shell in a container (Docker exec with a TTY), or a container's logs
 * (read-only), each behind one small interface that the socket server drives.
 */
import { closeSync, constants, openSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Ticket } from '@vigil/core/pty';
import type { DockerClient } from './docker/client.js';
import type { ContainerCache } from './docker/container-cache.js';
import { LogDemuxer } from './docker/log-demuxer.js';
import type { PtyOptions } from './pty.js';

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

type PtyModule = typeof import('node-pty');

/** How long a host shell has to exit after the hang-up that ends its session, ms, before it is killed. */
const KILL_AFTER_MS = 5000;

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

/**
 * The process a ticket names: a host shell, a shell in a container, or a
 * container's logs. A container must be one this exporter reports (the
 * VIGIL_CONTAINER_LABEL filter applies) and, for a shell, running.
 */
export function processFactory(
  options: Pick<PtyOptions, 'shell' | 'containerShell'>,
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
