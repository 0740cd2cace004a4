import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@vigil/core/log';

/** What Vigil keeps of a container. Never its environment, command, arguments or mounts: they hold secrets. */
export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  /** Docker's state: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  health: 'healthy' | 'unhealthy' | 'starting' | 'none';
  restartCount: number;
  /** Unix seconds; null when never started. */
  startedAt: number | null;
  /** The init process's pid on the host, for its cgroup and network namespace; null when not running. */
  pid: number | null;
  /** Only the label keys the operator allowed (VIGIL_CONTAINER_LABELS). */
  labels: Record<string, string>;
}

/** Thrown for a DOCKER_HOST Vigil cannot use, or a Docker API error; the message says which. */
export class DockerError extends Error {
  override name = 'DockerError';
}

/** Where the Docker Engine API is: a unix socket (default /var/run/docker.sock) or plain tcp://host:port. */
export function parseDockerHost(value: string | undefined): { socketPath: string } | { host: string; port: number } {
  const v = value?.trim() || 'unix:///var/run/docker.sock';
  if (v.startsWith('unix://')) return { socketPath: v.slice('unix://'.length) };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(v);
  if (m) return { host: m[1]!, port: Number(m[2]) };
  throw new DockerError(`DOCKER_HOST "${v}" is not unix:///path/to/docker.sock or tcp://host:port (TLS is not supported; use the socket)`);
}

/** A small Docker Engine API client over HTTP/1.1 (unix socket or tcp). */
export class DockerClient {
  readonly #target: ReturnType<typeof parseDockerHost>;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  constructor(
    dockerHost: string | undefined,
    readonly timeoutMs = 5000,
  ) {
    this.#target = parseDockerHost(dockerHost);
  }

  /** GET a JSON document. @throws DockerError on a non-2xx answer, a timeout or an unreachable daemon */
  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = http.get({ ...this.#target, path, agent: this.#agent, timeout: this.timeoutMs, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300)
            return reject(new DockerError(`Docker API ${path}: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
          try {
            resolve(JSON.parse(body) as T);
          } catch {
            reject(new DockerError(`Docker API ${path}: not JSON`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new DockerError(`Docker API ${path}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          e instanceof DockerError
            ? e
            : new DockerError(`Docker API unreachable (${e.code ?? e.message}); check DOCKER_HOST and that the socket is mounted`),
        ),
      );
    });
  }

  /**
   * Follows GET /events (newline-delimited JSON), calling `onEvent` for each.
   * Resolves when the stream ends; rejects when it cannot be opened.
   */
  events(
    path: string,
    onEvent: (e: { id?: string; Action?: string; status?: string }) => void,
    signal: AbortSignal,
    onOpen: () => void = () => {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get({ ...this.#target, path, signal }, (res) => {
        if ((res.statusCode ?? 500) >= 300) {
          res.resume();
          return reject(new DockerError(`Docker API ${path}: HTTP ${res.statusCode}`));
        }
        onOpen();
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) {
              try {
                onEvent(JSON.parse(line));
              } catch {
                // a torn line; the next refresh catches up
              }
            }
          }
        });
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  /**
   * Sends a request with an optional JSON body and reads a JSON answer (or
   * none: 204, or an empty body gives undefined).
   * @throws DockerError on a non-2xx answer, a timeout or an unreachable daemon
   */
  send<T>(method: string, path: string, body?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          ...this.#target,
          method,
          path,
          agent: this.#agent,
          timeout: this.timeoutMs,
          headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 300)
              return reject(new DockerError(`Docker API ${method} ${path}: HTTP ${res.statusCode} ${dockerMessage(text)}`));
            try {
              resolve((text ? JSON.parse(text) : undefined) as T);
            } catch {
              reject(new DockerError(`Docker API ${method} ${path}: not JSON`));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new DockerError(`Docker API ${path}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(e instanceof DockerError ? e : new DockerError(`Docker API unreachable (${e.code ?? e.message}); check DOCKER_HOST`)),
      );
      req.end(payload);
    });
  }

  /**
   * Starts a process with a TTY in a running container (POST
   * /containers/{id}/exec, then POST /exec/{id}/start upgraded to a raw
   * stream): the socket carries the terminal's bytes both ways.
   * @returns the exec's id (for resize and its exit code) and the raw socket
   * @throws DockerError when the container does not exist or is not running
   */
  async openExec(container: string, cmd: readonly string[], size: { cols: number; rows: number }): Promise<{ id: string; socket: Duplex }> {
    const { Id } = await this.send<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Cmd: cmd,
      Env: ['TERM=xterm-256color'],
      ConsoleSize: [size.rows, size.cols],
    });
    const socket = await this.#upgrade(`/exec/${Id}/start`, { Detach: false, Tty: true, ConsoleSize: [size.rows, size.cols] });
    return { id: Id, socket };
  }

  /** Resizes an exec's TTY (POST /exec/{id}/resize). @throws DockerError */
  async resizeExec(id: string, cols: number, rows: number): Promise<void> {
    await this.send('POST', `/exec/${id}/resize?h=${rows}&w=${cols}`);
  }

  /** An exec's exit code once it has ended (GET /exec/{id}/json); null while it runs. @throws DockerError */
  async execExitCode(id: string): Promise<number | null> {
    const d = await this.send<{ Running?: boolean; ExitCode?: number | null }>('GET', `/exec/${id}/json`);
    return d.Running ? null : (d.ExitCode ?? null);
  }

  /**
   * Follows a container's logs (GET /containers/{id}/logs?follow=1&stdout=1&stderr=1&tail=N).
   * @returns the response stream and whether it is raw (the container has a TTY)
   *   or multiplexed (8-byte frame headers: {@link LogDemuxer})
   * @throws DockerError when the container does not exist
   */
  async followLogs(container: string, tail: number, signal: AbortSignal): Promise<{ stream: http.IncomingMessage; tty: boolean }> {
    const c = encodeURIComponent(container);
    const inspect = await this.send<{ Config?: { Tty?: boolean } }>('GET', `/containers/${c}/json`);
    const path = `/containers/${c}/logs?follow=1&stdout=1&stderr=1&tail=${tail}`;
    return new Promise((resolve, reject) => {
      const req = http.get({ ...this.#target, path, signal }, (res) => {
        if ((res.statusCode ?? 500) >= 300) {
          res.resume();
          return reject(new DockerError(`Docker API ${path}: HTTP ${res.statusCode}`));
        }
        resolve({ stream: res, tty: inspect.Config?.Tty === true });
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(e instanceof DockerError ? e : new DockerError(`Docker API unreachable (${e.code ?? e.message})`)),
      );
    });
  }

  #upgrade(path: string, body: unknown): Promise<Duplex> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.#target,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'content-length': payload.length, connection: 'Upgrade', upgrade: 'tcp' },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          reject(
            new DockerError(`Docker API POST ${path}: HTTP ${res.statusCode} ${dockerMessage(Buffer.concat(chunks).toString('utf8'))}`),
          ),
        );
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(e instanceof DockerError ? e : new DockerError(`Docker API unreachable (${e.code ?? e.message})`)),
      );
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Docker's `{"message": …}` error text, or the start of the body. */
function dockerMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m.slice(0, 300);
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

/**
 * Splits Docker's multiplexed log stream (a container without a TTY): frames
 * of an 8-byte header — stream (1 stdout, 2 stderr), three zero bytes, the
 * payload's length as a big-endian uint32 — then the payload. Frames may be
 * split anywhere across chunks; state is kept between calls, and each byte is
 * looked at once.
 */
export class LogDemuxer {
  #header = Buffer.alloc(8);
  #headerFill = 0;
  #remaining = 0;
  #stream = 1;

  /** Feeds a chunk; `emit` gets each payload piece with its stream (1 stdout, 2 stderr). */
  push(chunk: Buffer, emit: (stream: 1 | 2, data: Buffer) => void): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#remaining === 0) {
        const take = Math.min(8 - this.#headerFill, chunk.length - i);
        chunk.copy(this.#header, this.#headerFill, i, i + take);
        this.#headerFill += take;
        i += take;
        if (this.#headerFill < 8) return;
        this.#headerFill = 0;
        this.#stream = this.#header[0] === 2 ? 2 : 1;
        this.#remaining = this.#header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - i);
      emit(this.#stream as 1 | 2, chunk.subarray(i, i + take));
      this.#remaining -= take;
      i += take;
    }
  }
}

interface ListEntry {
  Id: string;
  Names?: string[];
  Image?: string;
  State?: string;
  Labels?: Record<string, string> | null;
}

interface InspectDoc {
  Id: string;
  Name?: string;
  RestartCount?: number;
  State?: { Status?: string; Pid?: number; StartedAt?: string; Health?: { Status?: string } | null };
  Config?: { Image?: string; Labels?: Record<string, string> | null };
}

export interface ContainerCacheOptions {
  /** Only containers with this label: `key` or `key=value` (VIGIL_CONTAINER_LABEL). */
  labelFilter?: string;
  /** Label keys copied into the output (VIGIL_CONTAINER_LABELS). */
  allowedLabels?: readonly string[];
  log: Logger;
}

/**
 * The container list, cached and kept fresh from Docker's event stream rather
 * than polled each scrape: an event marks the list (and that container's
 * inspect data) stale, and the next `list()` refreshes only what changed. While
 * the stream is down it reconnects with backoff and `list()` refreshes every time.
 */
export class ContainerCache {
  #containers = new Map<string, ContainerInfo>();
  /** Containers whose inspect data an event made stale, with the event's generation. */
  #staleIds = new Map<string, number>();
  /** Bumped by every event (and by the stream reconnecting); the list is fresh when a refresh began at the current one. */
  #generation = 1;
  #freshAt = 0;
  #streaming = false;
  #refreshing: Promise<void> | null = null;
  #abort = new AbortController();
  readonly #filters: string;

  constructor(
    readonly client: DockerClient,
    private readonly options: ContainerCacheOptions,
  ) {
    const f: Record<string, string[]> = {};
    if (options.labelFilter) f.label = [options.labelFilter];
    this.#filters = encodeURIComponent(JSON.stringify(f));
  }

  /** Starts following the event stream (and reconnecting). */
  start(): void {
    void this.#follow();
  }

  async #follow(): Promise<void> {
    let backoff = 1000;
    const evFilters: Record<string, string[]> = { type: ['container'] };
    if (this.options.labelFilter) evFilters.label = [this.options.labelFilter];
    let lost = false;
    while (!this.#abort.signal.aborted) {
      try {
        const opened = Date.now();
        await this.client.events(
          `/events?filters=${encodeURIComponent(JSON.stringify(evFilters))}`,
          (e) => {
            this.#generation++;
            if (e.id) this.#staleIds.set(e.id, this.#generation);
          },
          this.#abort.signal,
          () => {
            this.#streaming = true;
            this.#generation++; // anything may have happened while we were away
            if (lost) this.options.log.info('Docker event stream is back');
            lost = false;
          },
        );
        if (Date.now() - opened > 60_000) backoff = 1000;
      } catch (err) {
        if (this.#abort.signal.aborted) break;
        // Said once per outage, not on every retry.
        if (!lost)
          this.options.log.warn(
            { err: (err as Error).message },
            'Docker event stream lost; listing containers on every scrape until it is back',
          );
        lost = true;
      }
      this.#streaming = false;
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(backoff * 2, 30_000);
    }
  }

  /** Whether the event stream is connected (else every list() asks Docker). */
  get streaming(): boolean {
    return this.#streaming;
  }

  /** The containers, refreshed first when something changed. @throws DockerError when Docker cannot be asked */
  async list(signal?: AbortSignal): Promise<ContainerInfo[]> {
    if (this.#freshAt !== this.#generation || !this.#streaming) {
      this.#refreshing ??= this.#refresh(signal).finally(() => (this.#refreshing = null));
      await this.#refreshing;
    }
    return [...this.#containers.values()];
  }

  /**
   * Lists and inspects what changed. The stale marks are cleared only once the
   * answers are in: a failed request leaves them set, so the next list() asks
   * again instead of serving the old list; an event arriving meanwhile keeps
   * its mark for the next refresh.
   */
  async #refresh(signal?: AbortSignal): Promise<void> {
    const generation = this.#generation;
    const entries = await this.client.get<ListEntry[]>(`/containers/json?all=1&filters=${this.#filters}`, signal);
    const next = new Map<string, ContainerInfo>();
    const inspected: string[] = [];
    await Promise.all(
      entries.map(async (e) => {
        const cached = this.#containers.get(e.Id);
        if (cached && !this.#staleIds.has(e.Id) && cached.state === e.State) {
          next.set(e.Id, cached);
          return;
        }
        try {
          next.set(e.Id, this.#fromInspect(await this.client.get<InspectDoc>(`/containers/${e.Id}/json`, signal)));
        } catch (err) {
          if (!/HTTP 404/.test((err as Error).message)) throw err; // else removed meanwhile
        }
        inspected.push(e.Id);
      }),
    );
    this.#containers = next;
    for (const id of inspected) if ((this.#staleIds.get(id) ?? 0) <= generation) this.#staleIds.delete(id);
    for (const id of this.#staleIds.keys()) if (!next.has(id) && (this.#staleIds.get(id) ?? 0) <= generation) this.#staleIds.delete(id);
    this.#freshAt = generation;
  }

  #fromInspect(d: InspectDoc): ContainerInfo {
    const allowed = this.options.allowedLabels ?? [];
    const labels: Record<string, string> = {};
    for (const k of allowed) {
      const v = d.Config?.Labels?.[k];
      if (v !== undefined) labels[k] = v;
    }
    const started = d.State?.StartedAt ? Date.parse(d.State.StartedAt) / 1000 : NaN;
    const health = d.State?.Health?.Status;
    return {
      id: d.Id,
      name: (d.Name ?? '').replace(/^\//, ''),
      image: d.Config?.Image ?? '',
      state: d.State?.Status ?? 'unknown',
      health: health === 'healthy' || health === 'unhealthy' || health === 'starting' ? health : 'none',
      restartCount: d.RestartCount ?? 0,
      startedAt: Number.isFinite(started) && started > 0 ? started : null,
      pid: d.State?.Pid ? d.State.Pid : null,
      labels,
    };
  }

  stop(): void {
    this.#abort.abort();
    this.client.close();
  }
}
