import WebSocket from 'ws';
import type { ServerControl } from '../pty.js';

/** A PTY socket client for tests: what it has read, and waits on what arrives. */
export interface PtyClient {
  ws: WebSocket;
  /** Every control message received, in order. */
  controls: ServerControl[];
  /** For each control message, the bytes of output received before it. */
  controlOffsets: number[];
  /** The sizes of the binary frames received, in order (the last 100 000). */
  frames: number[];
  /** The terminal output so far, as text. */
  text(): string;
  /** Bytes of terminal output received. */
  bytes(): number;
  /** Resolves once the output contains `pattern` (after `from`, a text offset); rejects if the socket closes first. */
  waitFor(pattern: string | RegExp, from?: number): Promise<string>;
  /** Resolves with the first control message of this type (already received or next). */
  control<T extends ServerControl['type']>(type: T): Promise<Extract<ServerControl, { type: T }>>;
  /** Sends keystrokes. */
  type(s: string): void;
  /** Sends a control message. */
  send(control: unknown): void;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

/** The HTTP answer of a refused upgrade. */
export interface Refusal {
  status: number;
  body: string;
}

/**
 * Opens a PTY socket (`ws://…`) with these headers.
 * @returns the client once open, or the HTTP refusal (status and body) when the upgrade is refused
 */
export function openPty(
  url: string,
  headers: Record<string, string> = {},
  options: { maxText?: number } = {},
): Promise<PtyClient | Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    let text = '';
    let bytes = 0;
    const max = options.maxText ?? 4 << 20;
    const controls: ServerControl[] = [];
    const controlOffsets: number[] = [];
    const frames: number[] = [];
    const watchers = new Set<() => void>();
    let closedInfo: { code: number; reason: string } | null = null;
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => {
        closedInfo = { code, reason: reason.toString() };
        r(closedInfo);
        for (const w of [...watchers]) w();
      }),
    );
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        bytes += data.length;
        frames.push(data.length);
        if (frames.length > 100_000) frames.splice(0, 50_000);
        text += data.toString('utf8');
        if (text.length > max) text = text.slice(text.length - max / 2);
      } else {
        controls.push(JSON.parse(data.toString('utf8')) as ServerControl);
        controlOffsets.push(bytes);
      }
      for (const w of [...watchers]) w();
    });
    const watch = <T>(check: () => T | undefined, what: string) =>
      new Promise<T>((res, rej) => {
        const run = () => {
          const v = check();
          if (v !== undefined) {
            watchers.delete(run);
            res(v);
          } else if (closedInfo) {
            watchers.delete(run);
            rej(
              new Error(
                `the socket closed (${closedInfo.code} ${closedInfo.reason}) before ${what}; output: ${JSON.stringify(text.slice(-300))}`,
              ),
            );
          }
        };
        watchers.add(run);
        run();
      });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (e) => {
      if (ws.readyState !== WebSocket.OPEN) reject(e);
    });
    ws.on('open', () =>
      resolve({
        ws,
        controls,
        controlOffsets,
        frames,
        closed,
        text: () => text,
        bytes: () => bytes,
        waitFor: (pattern, from = 0) =>
          watch(
            () => {
              const rest = text.slice(from);
              const m = typeof pattern === 'string' ? (rest.includes(pattern) ? pattern : undefined) : rest.match(pattern)?.[0];
              return m;
            },
            `output ${String(pattern)}`,
          ),
        control: (type) => watch(() => controls.find((c) => c.type === type) as never, `a ${type} message`),
        type: (s) => ws.send(Buffer.from(s), { binary: true }),
        send: (c) => ws.send(JSON.stringify(c)),
      }),
    );
  });
}

/** Narrows an {@link openPty} result to the client; throws with the refusal otherwise. */
export function opened(r: PtyClient | Refusal): PtyClient {
  if ('status' in r) throw new Error(`refused: HTTP ${r.status} ${r.body}`);
  return r;
}
