/** A small Docker Engine API client over HTTP/1.1, on a unix socket or tcp (DOCKER_HOST). */
import http from 'node:http';
import type { Duplex } from 'node:stream';

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
