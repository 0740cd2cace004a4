import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ExpositionError, parseFamilies, type ScrapedFamily } from '@vigil/core/exposition';
import type { Logger } from '@vigil/core/log';
import type { MetricFamily, MetricSink } from '@vigil/core/render';
import type { Collector } from '../collector.js';

/** The largest textfile read, in bytes; a larger one is reported and skipped. */
export const MAX_TEXTFILE_BYTES = 16 * 1024 * 1024;

const MTIME = 'node_textfile_mtime_seconds';
const SCRAPE_ERROR = 'node_textfile_scrape_error';
/** Prefixes of the exporter's own process series (prom-client's), which a textfile may not use. */
const RESERVED_PREFIXES = ['process_', 'nodejs_'];

/** One file's outcome in one collection. */
interface FileRead {
  file: string;
  mtimeSeconds?: number;
  families?: ScrapedFamily[];
  error?: string;
}

/**
 * Reads one `.prom` file: the families it declares, and its modification time
 * (whole seconds, as node_exporter reports it). Never throws: a problem is
 * returned as `error`, naming the file and what was wrong.
 */
export async function readTextfile(file: string, signal?: AbortSignal): Promise<FileRead> {
  let text: string;
  let mtimeSeconds: number;
  try {
    const handle = await open(file, 'r');
    try {
      const st = await handle.stat();
      if (!st.isFile()) return { file, error: `${file} is not a regular file` };
      if (st.size > MAX_TEXTFILE_BYTES)
        return { file, error: `${file} is ${st.size} bytes, over the ${MAX_TEXTFILE_BYTES}-byte limit for a textfile` };
      signal?.throwIfAborted();
      text = await handle.readFile({ encoding: 'utf8', signal });
      mtimeSeconds = Math.floor(st.mtimeMs / 1000);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    return { file, error: `cannot read ${file}: ${(err as Error).message}` };
  }
  let families: ScrapedFamily[];
  try {
    families = parseFamilies(text);
  } catch (err) {
    if (err instanceof ExpositionError) return { file, error: `${file}: ${err.message}` };
    throw err;
  }
  for (const f of families) {
    if (f.samples.some((s) => s.timestampMs !== undefined))
      return { file, error: `${file}: ${f.name} has a client-side timestamp, which textfiles may not carry; the whole file is skipped` };
    const reserved = RESERVED_PREFIXES.find((p) => f.name.startsWith(p));
    if (reserved) return { file, error: `${file}: ${f.name} uses the exporter's own ${reserved}* names; the whole file is skipped` };
  }
  return { file, mtimeSeconds, families };
}

/** The series names a family's samples use (`name`, or a histogram's `name_bucket`…). */
function seriesNames(f: ScrapedFamily): Set<string> {
  const out = new Set<string>([f.name]);
  for (const s of f.samples) out.add(s.name);
  return out;
}

/**
 * Whether `sink` has a series named `n`: a family of that name, or the
 * `_bucket`, `_sum` or `_count` of a histogram or summary (the only families
 * whose samples are named otherwise). Looked up, so a scrape does not list
 * the exporter's hundreds of series names to check a textfile's few.
 */
function exportedBy(sink: MetricSink, n: string): boolean {
  if (sink.families.has(n)) return true;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!n.endsWith(suffix)) continue;
    const type = sink.families.get(n.slice(0, -suffix.length))?.type;
    if (type === 'histogram' || type === 'summary') return true;
  }
  return false;
}

/** What a file gave when last read, by path: kept while its mtime, size and inode stay the same. */
type ReadCache = Map<string, { version: string; read: FileRead }>;

/**
 * {@link readTextfile} through `cache`: a file whose mtime, size and inode are
 * unchanged since it was last read is not read or parsed again (one stat).
 */
async function readTextfileCached(file: string, cache: ReadCache, signal?: AbortSignal): Promise<FileRead> {
  let version: string;
  try {
    const st = await stat(file);
    version = `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    cache.delete(file);
    return readTextfile(file, signal);
  }
  const hit = cache.get(file);
  if (hit?.version === version) return hit.read;
  const read = await readTextfile(file, signal);
  cache.set(file, { version, read });
  return read;
}

/**
 * node_exporter's textfile collector: every `*.prom` file directly in `dir`,
 * as the cron jobs that write them (backups, apt updates, SMART) expect.
 * Each file's families join `/metrics` with node_exporter's HELP when the file
 * has none ("Metric read from <file>"); `node_textfile_mtime_seconds{file}`
 * (whole seconds) for each file read and `node_textfile_scrape_error` (1 when
 * any file was unreadable, malformed, or refused). A bad file never breaks the
 * scrape: it is skipped whole and logged once (until its problem changes). A
 * family whose name another file or one of the exporter's own collectors
 * already uses is refused, with a message naming both. A missing directory is
 * an error (node_exporter's behaviour), so a mistyped VIGIL_TEXTFILE_DIR shows.
 * Without a directory (node_exporter's default), only `node_textfile_scrape_error` 0.
 */
export function textfileCollector(dir: string | undefined, log?: Logger): Collector {
  const reported = new Map<string, string>();
  const cache: ReadCache = new Map();
  const report = (problems: Map<string, string>) => {
    for (const [file, message] of problems) {
      if (reported.get(file) !== message) log?.warn({ collector: 'textfile', file, err: message }, 'textfile skipped');
    }
    for (const file of reported.keys()) {
      if (!problems.has(file)) log?.info({ collector: 'textfile', file }, 'textfile read again');
    }
    reported.clear();
    for (const [file, message] of problems) reported.set(file, message);
  };
  // What each collection's update found, by the sink it filled, for merge() to finish with.
  const pending = new WeakMap<MetricSink, { problems: Map<string, string>; families: { file: string; family: ScrapedFamily }[] }>();
  return {
    name: 'textfile',
    async update(sink, signal) {
      const scrapeError = sink.gauge(SCRAPE_ERROR, '1 if there was an error opening or reading a file, 0 otherwise');
      if (dir === undefined) return void scrapeError.set({}, 0);
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => n.endsWith('.prom')).sort();
      } catch (err) {
        throw new Error(`cannot list the textfile directory ${dir} (VIGIL_TEXTFILE_DIR): ${(err as Error).message}`);
      }
      for (const file of cache.keys()) if (!names.includes(path.basename(file))) cache.delete(file);
      const reads = await Promise.all(names.map((n) => readTextfileCached(path.join(dir, n), cache, signal)));
      const problems = new Map<string, string>();
      const families: { file: string; family: ScrapedFamily }[] = [];
      const mtime = sink.gauge(MTIME, 'Unixtime mtime of textfiles successfully read.');
      for (const r of reads) {
        if (r.error) {
          problems.set(r.file, r.error);
          continue;
        }
        mtime.set({ file: r.file }, r.mtimeSeconds!);
        for (const family of r.families!) families.push({ file: r.file, family });
      }
      pending.set(sink, { problems, families });
      scrapeError.set({}, problems.size > 0 ? 1 : 0);
    },
    merge(into: MetricSink, own: MetricSink) {
      into.absorb(own);
      const found = pending.get(own);
      if (!found) return;
      const { problems } = found;
      // Series names the accepted files took, by file; the exporter's own are in `into`.
      const taken = new Map<string, string>();
      const owner = (n: string) => taken.get(n) ?? (exportedBy(into, n) ? 'the exporter' : undefined);
      for (const { file, family } of found.families) {
        const clash = [...seriesNames(family)].find((n) => owner(n) !== undefined);
        if (clash !== undefined) {
          const message = `${family.name} is already exported by ${owner(clash)}; this file's ${family.name} is refused`;
          problems.set(file, problems.has(file) ? `${problems.get(file)}; ${message}` : `${file}: ${message}`);
          continue;
        }
        for (const n of seriesNames(family)) taken.set(n, file);
        const target: MetricFamily = into.family(family.name, family.help ?? `Metric read from ${file}`, family.type);
        for (const s of family.samples)
          target.values.push(
            s.name === family.name ? { labels: s.labels, value: s.value } : { labels: s.labels, value: s.value, name: s.name },
          );
      }
      if (problems.size > 0) into.families.get(SCRAPE_ERROR)?.values.splice(0, 1, { labels: {}, value: 1 });
      report(new Map([...problems].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    },
  };
}
