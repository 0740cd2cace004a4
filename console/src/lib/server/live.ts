import type { FleetEvent, FleetRowView } from '$lib/api';
import { getDb } from './db';
import { loadFleet } from './fleet';
import { log } from './log';
import { liveScrapers } from './scrapers';

/** What the feed reads each time: the fleet's rows, and how many scraper replicas are live. */
export interface FleetState {
  rows: FleetRowView[];
  scrapers: number;
}

/** Receives the feed's events. */
export type FleetListener = (event: FleetEvent) => void;

/**
 * The fleet's live feed, shared by every open fleet page of this console:
 * one query each `intervalMs` while anyone listens (none while nobody does),
 * whatever the number of pages, and each page is sent only the hosts that
 * changed. A page joining gets the last snapshot (read again first when the
 * feed was idle; joiners at the same moment share that one read).
 */
export class FleetFeed {
  #listeners = new Set<FleetListener>();
  /** Each host's row and its JSON (to tell what changed). */
  #rows = new Map<number, { row: FleetRowView; json: string }>();
  /** Live scraper replicas at the last read (a change is sent, even with no host changed). */
  #scrapers = 0;
  #loaded = false;
  #timer: NodeJS.Timeout | null = null;
  #tick: Promise<void> | null = null;
  #failing = false;
  /** Database reads made so far (the benchmark and tests count them). */
  reads = 0;

  constructor(
    private readonly load: () => Promise<FleetState>,
    private readonly intervalMs = 2000,
  ) {}

  /** Pages listening now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  /**
   * Adds a listener: sends it a snapshot, then updates. Resolves with the
   * function that removes it.
   * @throws the database's error when the first read fails (nothing is added)
   */
  async subscribe(listener: FleetListener): Promise<() => void> {
    if (!this.#loaded) await this.refresh(true);
    listener({ type: 'snapshot', rows: [...this.#rows.values()].map((r) => r.row), scrapers: this.#scrapers, server_time: Date.now() });
    this.#listeners.add(listener);
    this.#timer ??= setInterval(() => void this.refresh().catch(() => {}), this.intervalMs);
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = null;
      // Idle: what it holds would be stale when someone comes back.
      this.#loaded = false;
      this.#rows.clear();
    };
  }

  /**
   * Reads the fleet once (a read already running is shared, not repeated) and
   * sends each listener the hosts that changed, if any did.
   * @param rethrow throw the database's error (else it is logged once per outage)
   */
  async refresh(rethrow = false): Promise<void> {
    this.#tick ??= this.#read().finally(() => {
      this.#tick = null;
    });
    try {
      await this.#tick;
    } catch (err) {
      if (rethrow) throw err;
    }
  }

  async #read(): Promise<void> {
    let rows: FleetRowView[];
    let scrapers: number;
    try {
      this.reads++;
      ({ rows, scrapers } = await this.load());
      if (this.#failing) log().info('fleet feed: database reachable again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) log().error({ err: (err as Error).message }, 'fleet feed: cannot read the fleet; pages keep their last figures');
      this.#failing = true;
      throw err;
    }
    const changed: FleetRowView[] = [];
    const seen = new Set<number>();
    for (const row of rows) {
      seen.add(row.id);
      const json = JSON.stringify(row);
      if (this.#rows.get(row.id)?.json === json) continue;
      this.#rows.set(row.id, { row, json });
      changed.push(row);
    }
    const removed: number[] = [];
    for (const id of this.#rows.keys())
      if (!seen.has(id)) {
        this.#rows.delete(id);
        removed.push(id);
      }
    const first = !this.#loaded;
    const watchers = scrapers !== this.#scrapers;
    this.#loaded = true;
    this.#scrapers = scrapers;
    if (first || (changed.length === 0 && removed.length === 0 && !watchers)) return;
    const event: FleetEvent = { type: 'update', rows: changed, removed, scrapers, server_time: Date.now() };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        log().warn({ err: (err as Error).message }, 'fleet feed: a listener failed');
      }
    }
  }
}

let shared: FleetFeed | null = null;

/** This console's one fleet feed (every stream shares it). */
export function fleetFeed(): FleetFeed {
  shared ??= new FleetFeed(async () => {
    const db = await getDb();
    const [rows, scrapers] = await Promise.all([loadFleet(db), liveScrapers(db)]);
    return { rows, scrapers };
  });
  return shared;
}

/** Each user's open streams, by user id: how to end them. */
const streams = new Map<number, Set<() => void>>();

/** Registers an open stream of a user; returns the function that forgets it (call it when the stream ends). */
export function registerStream(userId: number, end: () => void): () => void {
  let set = streams.get(userId);
  if (!set) streams.set(userId, (set = new Set()));
  set.add(end);
  return () => {
    set.delete(end);
    if (set.size === 0) streams.delete(userId);
  };
}

/**
 * Ends a user's open streams now: on sign-out, and when their role, password,
 * keys or account change. A browser still entitled reconnects at once and the
 * hook checks it again; one that is not is refused.
 * @returns how many were ended
 */
export function endStreamsOf(userId: number): number {
  const set = streams.get(userId);
  if (!set) return 0;
  const ends = [...set];
  for (const end of ends) end();
  return ends.length;
}
