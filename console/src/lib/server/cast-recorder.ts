/** Terminal sessions recorded as asciicast v2 files (VIGIL_TERMINAL_RECORD_DIR), which the admin pages replay. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** A recording stops growing past this size (the session goes on). */
export const RECORDING_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Writes one session as asciicast v2: a header line, then `[seconds, "o",
 * text]` for output and `[seconds, "r", "COLSxROWS"]` for resizes. Keystrokes
 * are not recorded (they hold passwords typed at prompts that do not echo).
 */
export class CastRecorder {
  readonly #out: WriteStream;
  readonly #decoder = new StringDecoder('utf8');
  readonly #t0 = performance.now();
  #bytes = 0;
  #full = false;

  constructor(
    readonly file: string,
    header: { cols: number; rows: number; title: string },
  ) {
    this.#out = createWriteStream(file, { mode: 0o600 });
    this.#out.on('error', () => {
      this.#full = true;
    });
    this.#line({
      version: 2,
      width: header.cols,
      height: header.rows,
      timestamp: Math.floor(Date.now() / 1000),
      title: header.title,
      env: { TERM: 'xterm-256color' },
    });
  }

  #line(v: unknown): void {
    if (this.#full) return;
    const text = `${JSON.stringify(v)}\n`;
    this.#bytes += text.length;
    if (this.#bytes > RECORDING_MAX_BYTES) {
      this.#full = true;
      this.#out.write(`${JSON.stringify([this.#now(), 'o', '\r\n[recording stopped: 64 MiB]\r\n'])}\n`);
      return;
    }
    this.#out.write(text);
  }

  #now(): number {
    return Math.round(performance.now() - this.#t0) / 1000;
  }

  output(data: Buffer): void {
    const text = this.#decoder.write(data);
    if (text) this.#line([this.#now(), 'o', text]);
  }

  resize(cols: number, rows: number): void {
    this.#line([this.#now(), 'r', `${cols}x${rows}`]);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#out.end(resolve));
  }
}
