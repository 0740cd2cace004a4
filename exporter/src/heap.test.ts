import { describe, expect, it } from 'vitest';
import { HeapTrimmer } from './heap.js';

const MiB = 2 ** 20;

describe('HeapTrimmer', () => {
  it('runs a full GC only when the heap has grown past the slack since the last one', () => {
    let used = 10 * MiB;
    let gcs = 0;
    const t = new HeapTrimmer(
      () => {
        gcs++;
        used = 9 * MiB; // what survived
      },
      4 * MiB,
      () => used,
    );
    expect(t.check()).toBe(true); // the first check sets the floor
    expect(gcs).toBe(1);
    used = 12.9 * MiB;
    expect(t.check()).toBe(false);
    used = 13.1 * MiB;
    expect(t.check()).toBe(true);
    expect([gcs, t.trims]).toEqual([2, 2]);
  });

  it('does nothing without a gc function', () => {
    const t = new HeapTrimmer(undefined, 0, () => 100 * MiB);
    expect(t.enabled).toBe(false);
    expect(t.check()).toBe(false);
    t.afterCollection();
    expect(t.trims).toBe(0);
  });

  it('checks once after the current request, however many collections end in it', async () => {
    let gcs = 0;
    let used = 100 * MiB;
    const t = new HeapTrimmer(
      () => {
        gcs++;
        used = 1 * MiB;
      },
      4 * MiB,
      () => used,
    );
    t.afterCollection();
    t.afterCollection();
    expect(gcs).toBe(0); // not inside the request
    await new Promise((r) => setImmediate(r));
    expect(gcs).toBe(1);
  });

  it('lowers the real heap in use when given V8 gc (node --expose-gc)', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const t = new HeapTrimmer(gc, 1 * MiB);
    t.check();
    let garbage: number[][] | null = Array.from({ length: 2000 }, () => Array.from({ length: 500 }, (_, i) => i));
    const before = (await import('node:v8')).getHeapStatistics().used_heap_size;
    garbage = null;
    expect(garbage).toBeNull();
    expect(t.check()).toBe(true);
    expect((await import('node:v8')).getHeapStatistics().used_heap_size).toBeLessThan(before - 4 * MiB);
  });
});
