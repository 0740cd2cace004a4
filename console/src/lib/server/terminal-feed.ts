import { PTY_MAX_FRAME_BYTES } from '@vigil/core/pty';

/**
 * Unacknowledged output past which output for the browser is gathered into
 * frames of up to {@link PTY_MAX_FRAME_BYTES}: a browser that is behind pays
 * its per-message cost (an event, an xterm.js write, an acknowledgement) once
 * per 64 KiB rather than once per read of the pty. Below it, each chunk goes
 * out at once, so keystrokes are never held.
 */
export const COALESCE_BYTES = 64 * 1024;

/**
 * Terminal output on its way to one browser, and what it has acknowledged as
 * drawn. While the browser keeps up (under {@link COALESCE_BYTES}
 * unacknowledged), each chunk is sent at once; once it is behind, chunks are
 * held and sent together when they fill a frame, when the browser
 * acknowledges something, or when {@link flush} is called (before a control
 * message, so that an exit never overtakes the output before it).
 */
export class TerminalFeed {
  /** Bytes sent and not yet acknowledged. */
  unacked = 0;
  #held: Buffer[] = [];
  #heldBytes = 0;

  /** @param send sends one binary frame to the browser */
  constructor(private readonly send: (frame: Buffer) => void) {}

  /** Bytes held back, not yet sent. */
  get held(): number {
    return this.#heldBytes;
  }

  /** Output for the browser (at most {@link PTY_MAX_FRAME_BYTES} a chunk, as the PTY socket's frames are). */
  push(data: Buffer): void {
    if (this.#heldBytes === 0 && this.unacked < COALESCE_BYTES) {
      this.#emit(data);
      return;
    }
    if (this.#heldBytes + data.length > PTY_MAX_FRAME_BYTES) this.flush();
    this.#held.push(data);
    this.#heldBytes += data.length;
  }

  /** The browser has drawn `bytes` more: what is held goes out. */
  ack(bytes: number): void {
    this.unacked = Math.max(0, this.unacked - bytes);
    this.flush();
  }

  /** Sends what is held, as one frame. */
  flush(): void {
    if (this.#heldBytes === 0) return;
    const frame = this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held, this.#heldBytes);
    this.#held = [];
    this.#heldBytes = 0;
    this.#emit(frame);
  }

  #emit(frame: Buffer): void {
    this.unacked += frame.length;
    this.send(frame);
  }
}
