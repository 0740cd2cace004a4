import v8 from 'node:v8';

/**
 * Bytes in use in V8's old generation (every heap space but the young
 * generation's, whose garbage a scavenge collects anyway), from
 * v8.getHeapSpaceStatistics().
 */
export function oldGenerationUsedBytes(): number {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (!s.space_name.startsWith('new_')) used += s.space_used_size;
  return used;
}

/**
 * Keeps the exporter's V8 heap near its live size between scrapes.
 *
 * After each full GC, V8 lets the old generation grow at least 8 MiB past what
 * survived before collecting again; its 2 MiB step is reserved for embedders
 * that declare memory pressure, which Node does not. For an agent whose live
 * heap is ~10 MiB, that is most of its resident memory whenever it is scraped
 * often. So after a collection, once the old generation has grown more than
 * `slackBytes` (default 4 MiB) beyond what the last trim left, this runs one
 * full GC, outside any request (about 10 ms for the exporter's heap; about once
 * per 10 scrapes with 20 containers scraped back to back). Measured in bench/RESULTS.md.
 *
 * Needs `gc` (Node's `--expose-gc`, passed by bin/vigil-exporter.js); without
 * it, it does nothing and V8's own schedule applies.
 */
export class HeapTrimmer {
  private floor = 0;
  private scheduled = false;
  /** How many full GCs this trimmer ran. */
  trims = 0;

  constructor(
    private readonly gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
    readonly slackBytes = 4 * 2 ** 20,
    private readonly heapUsedBytes: () => number = oldGenerationUsedBytes,
  ) {}

  /** Whether trimming is possible (a `gc` function was given or exposed). */
  get enabled(): boolean {
    return this.gc !== undefined;
  }

  /** Checks the heap once the current request is done (setImmediate), and trims when it has grown past the slack. */
  afterCollection(): void {
    if (!this.gc || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.check();
    });
  }

  /** Checks now: runs a full GC when the heap in use exceeds the last floor by more than the slack. */
  check(): boolean {
    if (!this.gc || this.heapUsedBytes() <= this.floor + this.slackBytes) return false;
    this.gc();
    this.trims++;
    this.floor = this.heapUsedBytes();
    return true;
  }
}
