/** The containers the exporter reports: listed and inspected through the Docker Engine API, cached, refreshed on Docker's events. */
import type { Logger } from '@vigil/core/log';
import type { DockerClient } from './client.js';

/** What Vigil keeps of a container. Never its environment, command, arguments or mounts: they hold secrets. */
export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  /** Docker's state: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  health: 'healthy' | 'unhealthy' | 'starting' | 'none';
  restartCount: number;
  /** Unix seconds; null when never started. */
  startedAt: number | null;
  /** The init process's pid on the host, for its cgroup and network namespace; null when not running. */
  pid: number | null;
  /** Only the label keys the operator allowed (VIGIL_CONTAINER_LABELS). */
  labels: Record<string, string>;
}

interface ListEntry {
  Id: string;
  Names?: string[];
  Image?: string;
  State?: string;
  Labels?: Record<string, string> | null;
}

interface InspectDoc {
  Id: string;
  Name?: string;
  RestartCount?: number;
  State?: { Status?: string; Pid?: number; StartedAt?: string; Health?: { Status?: string } | null };
  Config?: { Image?: string; Labels?: Record<string, string> | null };
}

export interface ContainerCacheOptions {
  /** Only containers with this label: `key` or `key=value` (VIGIL_CONTAINER_LABEL). */
  labelFilter?: string;
  /** Label keys copied into the output (VIGIL_CONTAINER_LABELS). */
  allowedLabels?: readonly string[];
  log: Logger;
}

/**
 * The container list, cached and kept fresh from Docker's event stream rather
 * than polled each scrape: an event marks the list (and that container's
 * inspect data) stale, and the next `list()` refreshes only what changed. While
 * the stream is down it reconnects with backoff and `list()` refreshes every time.
 */
export class ContainerCache {
  #containers = new Map<string, ContainerInfo>();
  /** Containers whose inspect data an event made stale, with the event's generation. */
  #staleIds = new Map<string, number>();
  /** Bumped by every event (and by the stream reconnecting); the list is fresh when a refresh began at the current one. */
  #generation = 1;
  #freshAt = 0;
  #streaming = false;
  #refreshing: Promise<void> | null = null;
  #abort = new AbortController();
  readonly #filters: string;

  constructor(
    readonly client: DockerClient,
    private readonly options: ContainerCacheOptions,
  ) {
    const f: Record<string, string[]> = {};
    if (options.labelFilter) f.label = [options.labelFilter];
    this.#filters = encodeURIComponent(JSON.stringify(f));
  }

  /** Starts following the event stream (and reconnecting). */
  start(): void {
    void this.#follow();
  }

  async #follow(): Promise<void> {
    let backoff = 1000;
    const evFilters: Record<string, string[]> = { type: ['container'] };
    if (this.options.labelFilter) evFilters.label = [this.options.labelFilter];
    let lost = false;
    while (!this.#abort.signal.aborted) {
      try {
        const opened = Date.now();
        await this.client.events(
          `/events?filters=${encodeURIComponent(JSON.stringify(evFilters))}`,
          (e) => {
            this.#generation++;
            if (e.id) this.#staleIds.set(e.id, this.#generation);
          },
          this.#abort.signal,
          () => {
            this.#streaming = true;
            this.#generation++; // anything may have happened while we were away
            if (lost) this.options.log.info('Docker event stream is back');
            lost = false;
          },
        );
        if (Date.now() - opened > 60_000) backoff = 1000;
      } catch (err) {
        if (this.#abort.signal.aborted) break;
        // Said once per outage, not on every retry.
        if (!lost)
          this.options.log.warn(
            { err: (err as Error).message },
            'Docker event stream lost; listing containers on every scrape until it is back',
          );
        lost = true;
      }
      this.#streaming = false;
      await new Promise((r) => setTimeout(r, backoff).unref());
      backoff = Math.min(backoff * 2, 30_000);
    }
  }

  /** Whether the event stream is connected (else every list() asks Docker). */
  get streaming(): boolean {
    return this.#streaming;
  }

  /** The containers, refreshed first when something changed. @throws DockerError when Docker cannot be asked */
  async list(signal?: AbortSignal): Promise<ContainerInfo[]> {
    if (this.#freshAt !== this.#generation || !this.#streaming) {
      this.#refreshing ??= this.#refresh(signal).finally(() => (this.#refreshing = null));
      await this.#refreshing;
    }
    return [...this.#containers.values()];
  }

  /**
   * Lists and inspects what changed. The stale marks are cleared only once the
   * answers are in: a failed request leaves them set, so the next list() asks
   * again instead of serving the old list; an event arriving meanwhile keeps
   * its mark for the next refresh.
   */
  async #refresh(signal?: AbortSignal): Promise<void> {
    const generation = this.#generation;
    const entries = await this.client.get<ListEntry[]>(`/containers/json?all=1&filters=${this.#filters}`, signal);
    const next = new Map<string, ContainerInfo>();
    const inspected: string[] = [];
    await Promise.all(
      entries.map(async (e) => {
        const cached = this.#containers.get(e.Id);
        if (cached && !this.#staleIds.has(e.Id) && cached.state === e.State) {
          next.set(e.Id, cached);
          return;
        }
        try {
          next.set(e.Id, this.#fromInspect(await this.client.get<InspectDoc>(`/containers/${e.Id}/json`, signal)));
        } catch (err) {
          if (!/HTTP 404/.test((err as Error).message)) throw err; // else removed meanwhile
        }
        inspected.push(e.Id);
      }),
    );
    this.#containers = next;
    for (const id of inspected) if ((this.#staleIds.get(id) ?? 0) <= generation) this.#staleIds.delete(id);
    for (const id of this.#staleIds.keys()) if (!next.has(id) && (this.#staleIds.get(id) ?? 0) <= generation) this.#staleIds.delete(id);
    this.#freshAt = generation;
  }

  #fromInspect(d: InspectDoc): ContainerInfo {
    const allowed = this.options.allowedLabels ?? [];
    const labels: Record<string, string> = {};
    for (const k of allowed) {
      const v = d.Config?.Labels?.[k];
      if (v !== undefined) labels[k] = v;
    }
    const started = d.State?.StartedAt ? Date.parse(d.State.StartedAt) / 1000 : NaN;
    const health = d.State?.Health?.Status;
    return {
      id: d.Id,
      name: (d.Name ?? '').replace(/^\//, ''),
      image: d.Config?.Image ?? '',
      state: d.State?.Status ?? 'unknown',
      health: health === 'healthy' || health === 'unhealthy' || health === 'starting' ? health : 'none',
      restartCount: d.RestartCount ?? 0,
      startedAt: Number.isFinite(started) && started > 0 ? started : null,
      pid: d.State?.Pid ? d.State.Pid : null,
      labels,
    };
  }

  stop(): void {
    this.#abort.abort();
    this.client.close();
  }
}
