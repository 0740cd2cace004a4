import { PTY_MAX_FRAME_BYTES } from '@vigil/core/pty';
import { describe, expect, it } from 'vitest';
import { COALESCE_BYTES, TerminalFeed } from './terminal-feed';

/** A feed whose frames are recorded. */
function feed() {
  const frames: Buffer[] = [];
  return { frames, feed: new TerminalFeed((f) => frames.push(f)) };
}
const chunk = (n: number, fill = 97) => Buffer.alloc(n, fill);

describe('TerminalFeed', () => {
  it('sends each chunk at once while the browser keeps up', () => {
    const { frames, feed: f } = feed();
    for (let i = 0; i < 10; i++) f.push(chunk(100));
    expect(frames.map((x) => x.length)).toEqual(Array(10).fill(100));
    expect(f.unacked).toBe(1000);
    expect(f.held).toBe(0);
  });

  it('holds output once COALESCE_BYTES are unacknowledged, and sends it as one frame when a frame fills', () => {
    const { frames, feed: f } = feed();
    const n = 4096;
    const direct = COALESCE_BYTES / n; // chunks sent before the mark
    for (let i = 0; i < direct + PTY_MAX_FRAME_BYTES / n + 1; i++) f.push(chunk(n, 48 + (i % 10)));
    expect(frames).toHaveLength(direct + 1);
    expect(frames.at(-1)!.length).toBe(PTY_MAX_FRAME_BYTES);
    expect(f.held).toBe(n);
    // The bytes, in order: what was sent and what is held are the chunks pushed.
    f.flush();
    const all = Buffer.concat(frames);
    for (let i = 0; i < all.length / n; i++) expect(all[i * n]).toBe(48 + (i % 10));
    expect(f.unacked).toBe(all.length);
  });

  it('sends what it holds when the browser acknowledges, and counts what is unacknowledged', () => {
    const { frames, feed: f } = feed();
    f.push(chunk(COALESCE_BYTES));
    f.push(chunk(10));
    f.push(chunk(20));
    expect(frames).toHaveLength(1);
    expect(f.held).toBe(30);
    f.ack(1000);
    expect(frames.map((x) => x.length)).toEqual([COALESCE_BYTES, 30]);
    expect(f.unacked).toBe(COALESCE_BYTES - 1000 + 30);
    f.ack(10 * COALESCE_BYTES);
    expect(f.unacked).toBe(0);
    // Caught up: the next chunk goes at once.
    f.push(chunk(5));
    expect(frames.at(-1)!.length).toBe(5);
  });

  it('sends nothing for a flush with nothing held', () => {
    const { frames, feed: f } = feed();
    f.flush();
    f.ack(5);
    expect(frames).toEqual([]);
    expect(f.unacked).toBe(0);
  });
});
