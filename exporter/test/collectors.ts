/** What the collectors' tests share: this host's captured /proc, its files, and a collector's series read plainly. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';

/** The /proc captured from a real host (test/fixtures/this-host/proc in core). */
export const PROC = path.join(FIXTURES, 'this-host', 'proc');

/** A file of {@link PROC}, as text. */
export const fixture = (file: string) => readFileSync(path.join(PROC, file), 'utf8');

/** Host paths with {@link PROC} and no /sys or root filesystem. */
export const paths = { proc: PROC, sys: '/nonexistent', rootfs: '/nonexistent' };

/** A collector's series as name → type and (last) value, read plainly from its sink. */
export async function series(c: {
  update(sink: MetricSink, signal: AbortSignal): unknown;
}): Promise<Map<string, { type: string; value: number }>> {
  const sink = new MetricSink();
  await c.update(sink, new AbortController().signal);
  const out = new Map<string, { type: string; value: number }>();
  for (const f of sink.families.values()) for (const s of f.values) out.set(f.name, { type: f.type, value: s.value });
  return out;
}
