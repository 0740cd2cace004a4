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
