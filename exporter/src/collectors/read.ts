import { readSync } from 'node:fs';
import { type FileHandle, open, readdir, readFile } from 'node:fs/promises';

/** Thrown by parsers for input that is not what the kernel writes. */
export class ParseError extends Error {
  override name = 'ParseError';
  constructor(file: string, line: number, message: string) {
    super(`${file} line ${line}: ${message}`);
  }
}

/** An open host file: its handle, and whether it is a regular file (not a FIFO or device). */
interface Open {
  handle: FileHandle;
  regular: boolean;
}

/** Open handles of host files read every scrape, by path. Bounded; evicted on error. */
const handles = new Map<string, Promise<Open>>();
/** The same handles once open, for reading without an await ({@link readKeptSync}). */
const opened = new Map<string, Open>();
const MAX_HANDLES = 4096;

async function openFile(path: string): Promise<Open> {
  const handle = await open(path, 'r');
  try {
    return { handle, regular: (await handle.stat()).isFile() };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** A buffer with room past `size`: the same one, or one twice as large holding its first `size` bytes. */
function roomy(buf: Buffer, size: number): Buffer {
  if (size < buf.length) return buf;
  const bigger = Buffer.allocUnsafe(buf.length * 2);
  buf.copy(bigger, 0, 0, size);
  return bigger;
}

// Both read with pread from offset 0: procfs, sysfs and cgroupfs generate the
// content afresh there, so a kept-open handle gives current figures.
/**
 * One scratch buffer for every synchronous read: they cannot interleave, and a
 * fresh buffer per file (hundreds per scrape with containers) is malloc churn
 * that shows up as resident memory.
 */
let scratch: Buffer = Buffer.allocUnsafe(65_536);

function readAllSync(fd: number): string {
  for (let size = 0; ; ) {
    scratch = roomy(scratch, size);
    const n = readSync(fd, scratch, size, scratch.length - size, size);
    if (n === 0) return scratch.toString('utf8', 0, size);
    size += n;
  }
}

async function readAll(h: FileHandle): Promise<string> {
  let buf: Buffer = Buffer.allocUnsafe(16_384);
  for (let size = 0; ; ) {
    buf = roomy(buf, size);
    const { bytesRead } = await h.read(buf, size, buf.length - size, size);
    if (bytesRead === 0) return buf.toString('utf8', 0, size);
    size += bytesRead;
  }
}

function evict(path: string): void {
  const h = handles.get(path);
  handles.delete(path);
  opened.delete(path);
  void h?.then((o) => o.handle.close()).catch(() => {});
}

/**
 * How a file is read each scrape:
 * - `memory`: kernel data generated from memory without sleeping (/proc/stat,
 *   meminfo, loadavg, net/dev, diskstats, pressure, sys/kernel, operstate): kept
 *   open and, once the handle is known to be a regular file, read synchronously
 *   from offset 0 — a few microseconds, less than an async round trip costs.
 * - `async`: kept open, read asynchronously (sensors whose drivers may talk to
 *   hardware, mountinfo, which waits on the mount lock).
 * - `once`: opened, read and closed asynchronously (per-container paths, which
 *   come and go).
 * Opening is always asynchronous, so a path that blocks (a FIFO, a hung mount)
 * ties up a pool thread, never the event loop, and the collector's deadline fires.
 */
export type ReadMode = 'memory' | 'async' | 'once';

/**
 * Reads a procfs or sysfs text file (see {@link ReadMode}). A kept-open handle
 * that fails (a device that went away) is closed and the file opened afresh once.
 * @throws the open or read error (ENOENT, EACCES, ...)
 */
export async function readText(path: string, signal?: AbortSignal, mode: ReadMode = 'async'): Promise<string> {
  if (mode === 'once') return readFile(path, { encoding: 'utf8', signal });
  let pending = handles.get(path);
  let fresh = false;
  if (!pending) {
    if (handles.size >= MAX_HANDLES) evict(handles.keys().next().value!);
    pending = openFile(path).then((o) => {
      if (handles.get(path) === pending && mode === 'memory' && o.regular) opened.set(path, o);
      return o;
    });
    handles.set(path, pending);
    fresh = true;
  }
  let o: Open;
  try {
    o = await pending;
  } catch (err) {
    evict(path);
    throw err;
  }
  try {
    return mode === 'memory' && o.regular ? readAllSync(o.handle.fd) : await readAll(o.handle);
  } catch (err) {
    // A value the kernel will not give now (a down link's speed: EINVAL) keeps its handle.
    if (isTransientSensorError(err)) throw err;
    evict(path);
    if (fresh) throw err;
    return readText(path, signal, mode);
  }
}

/**
 * A `memory`-mode file's content read synchronously from its kept handle, or
 * undefined when it has none yet (read it with {@link readText}, which opens
 * it). For collectors that read dozens of small sysfs files each scrape, where
 * an await per file costs more than the read.
 * @throws the read error (EINVAL for a value the kernel will not give now)
 */
export function readKeptSync(path: string): string | undefined {
  const o = opened.get(path);
  if (!o) return undefined;
  // Some of these fail every scrape (a virtual link's speed: EINVAL); the
  // error's stack trace would cost more than the read, and nothing reads it.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readAllSync(o.handle.fd);
  } catch (err) {
    if (!isTransientSensorError(err)) evict(path);
    throw err;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * {@link readText}, or null when the file does not exist: a kernel module not
 * loaded (nf_conntrack), a kernel without IPv6 (sockstat6, udp6, snmp6).
 * @throws any other open or read error
 */
export async function readOptional(path: string, signal?: AbortSignal, mode: ReadMode = 'memory'): Promise<string | null> {
  try {
    return await readText(path, signal, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * The whole number of a one-value procfs or sysfs file (`256\n`).
 * @throws ParseError naming `file` when it is anything else
 */
export function parseWholeNumber(text: string, file: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new ParseError(file, 1, `expected a whole number, got ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/** Closes the kept-open handles whose path passes `match` (a container that went away). */
export function closeHandles(match: (path: string) => boolean = () => true): void {
  for (const p of [...handles.keys()]) if (match(p)) evict(p);
}

/** How many handles are kept open (for tests). */
export function openHandleCount(): number {
  return handles.size;
}

/**
 * The entries of a sysfs class directory (`<sys>/class/thermal`, `.../hwmon`)
 * whose names match, sorted; an empty list when the kernel has no such class.
 */
export async function listClass(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => pattern.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** A sensor that cannot be read right now (idle, disabled, busy bus): left out, not a failure. */
export function isTransientSensorError(err: unknown): boolean {
  return ['EAGAIN', 'ENODATA', 'EINVAL', 'EIO'].includes((err as NodeJS.ErrnoException).code ?? '');
}

/**
 * Remembers what `load` gave for a key for `seconds`: for sources that change
 * rarely and cost file opens every scrape (os-release, the zone file, udev's
 * database, whether selinuxfs exists). A failed load is not remembered.
 */
export class Remembered<T> {
  readonly #entries = new Map<string, { value: Promise<T>; until: number }>();
  constructor(
    private readonly seconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const t = this.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > t) return hit.value;
    if (this.#entries.size >= 1024) this.#entries.clear();
    const value = load();
    this.#entries.set(key, { value, until: t + this.seconds * 1000 });
    value.catch(() => this.#entries.delete(key));
    return value;
  }
}
