/** An asciicast v2 recording, parsed: its size and its events (seconds from the start). */
export interface Cast {
  cols: number;
  rows: number;
  /** Output (`o`: text) and resizes (`r`: "COLSxROWS"), in time order. */
  events: { t: number; kind: 'o' | 'r'; data: string }[];
  /** Seconds from the first event to the last. */
  duration: number;
}

/**
 * Parses asciicast v2 text: a JSON header line, then one `[time, code, data]`
 * array per line. Lines it cannot read, and codes other than `o` and `r`, are
 * skipped.
 * @throws Error when the header is not an asciicast v2 header
 */
export function parseCast(text: string): Cast {
  const lines = text.split('\n');
  let header: { version?: unknown; width?: unknown; height?: unknown };
  try {
    header = JSON.parse(lines[0] ?? '');
  } catch {
    throw new Error('not an asciicast file: its first line is not JSON');
  }
  if (header.version !== 2) throw new Error('not an asciicast v2 file');
  const events: Cast['events'] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    try {
      const [t, kind, data] = JSON.parse(lines[i]!) as [unknown, unknown, unknown];
      if (typeof t === 'number' && (kind === 'o' || kind === 'r') && typeof data === 'string') events.push({ t, kind, data });
    } catch {
      // a torn last line (the console stopped mid-write)
    }
  }
  return {
    cols: Number(header.width) || 80,
    rows: Number(header.height) || 24,
    events,
    duration: events.length ? events[events.length - 1]!.t : 0,
  };
}

/** The index of the first event after `t` seconds (binary search; events are in time order). */
export function eventAfter(cast: Cast, t: number): number {
  let lo = 0;
  let hi = cast.events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cast.events[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
