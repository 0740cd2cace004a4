import { setMaxListeners } from 'node:events';
import { MetricSink } from '@vigil/core/render';
import type { ContainerSnapshot } from './collectors/containers.js';
import type { ProbeResult } from './collectors/services.js';

/** Where the host's files are: node_exporter's --path.procfs / --path.sysfs / --path.rootfs. */
export interface HostPaths {
  /** procfs, `/proc` on the host itself, `/host/proc` in a container. */
  proc: string;
  /** sysfs, `/sys` on the host. */
  sys: string;
  /** the host's root filesystem, `/` on the host; statfs() is called below it. */
  rootfs: string;
}

/**
 * What a collector hands the JSON views besides its series: the container
 * snapshots and probe results of this collection.
 */
export interface CollectorDetails {
  containers?: ContainerSnapshot[];
  probes?: ProbeResult[];
}

/**
 * One collector: reads its sources once per scrape and adds samples to the
 * sink, optionally returning details for the JSON views. It rejects when its
 * sources cannot be read or parsed; the scrape goes on without its series and
 * reports `vigil_exporter_collector_success` 0.
 */
export interface Collector {
  readonly name: string;
  update(sink: MetricSink, signal: AbortSignal): Promise<CollectorDetails | undefined | void>;
  /**
   * For series from outside the exporter (the textfile collector): moves what
   * `update` put in `own` into the scrape's `into`, after every other
   * collector's, refusing what would clash with the exporter's own series.
   * Without it, `own` is absorbed as is.
   */
  merge?(into: MetricSink, own: MetricSink): void;
}

/** How one collector fared in one collection. */
export interface CollectorOutcome {
  name: string;
  success: boolean;
  durationSeconds: number;
  error?: string;
}

/** Everything one collection produced. */
export interface Collection {
  sink: MetricSink;
  outcomes: CollectorOutcome[];
  /** Unix time in seconds at which the collection started. */
  startedAt: number;
  /**
   * The details of the collectors that finished in time; what a late or failed
   * collector would have given is absent, never carried into a later collection.
   */
  details: CollectorDetails;
}

/** Thrown into a collector's outcome when it ran past the deadline. */
export class CollectorTimeoutError extends Error {
  override name = 'CollectorTimeoutError';
}

/**
 * Runs every collector concurrently, each under `timeoutSeconds`. A collector
 * that rejects or runs late contributes no series (what it adds later is
 * dropped) and is reported with success 0; the others are unaffected. Adds
 * `vigil_exporter_collector_success{collector}` and
 * `vigil_exporter_collector_duration_seconds{collector}` for each, and the
 * same as node_exporter's `node_scrape_collector_success` and
 * `node_scrape_collector_duration_seconds`.
 */
export async function collect(collectors: readonly Collector[], timeoutSeconds: number): Promise<Collection> {
  const startedAt = Date.now() / 1000;
  // One deadline for the whole collection: every collector starts now and has
  // the same time, so one timer and one signal serve them all.
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new CollectorTimeoutError()); // runOne names the collector
    }, timeoutSeconds * 1000);
  });
  deadline.catch(() => {}); // each collector's race reports it
  const outcomes = await Promise.all(collectors.map((c) => runOne(c, controller.signal, deadline, timeoutSeconds)));
  clearTimeout(timer);
  const sink = new MetricSink();
  const success = sink.gauge(
    'vigil_exporter_collector_success',
    'Whether a collector succeeded (1) or failed or timed out (0) in this scrape.',
  );
  const duration = sink.gauge('vigil_exporter_collector_duration_seconds', 'How long a collector took in this scrape, in seconds.');
  // The same under node_exporter's names: its dashboards' "Node Exporter" row
  // and the usual "collector failed" alert rules read these.
  const nodeSuccess = sink.gauge('node_scrape_collector_success', 'node_exporter: Whether a collector succeeded.');
  const nodeDuration = sink.gauge('node_scrape_collector_duration_seconds', 'node_exporter: Duration of a collector scrape.');
  const details: CollectorDetails = {};
  collectors.forEach((c, i) => {
    const own = outcomes[i]!.sink;
    if (own && !c.merge) sink.absorb(own);
  });
  collectors.forEach((c, i) => {
    const own = outcomes[i]!.sink;
    if (own && c.merge) c.merge(sink, own);
  });
  for (const o of outcomes) {
    if (o.details) Object.assign(details, o.details);
    const labels = { collector: o.outcome.name };
    success.set(labels, o.outcome.success ? 1 : 0);
    duration.set(labels, o.outcome.durationSeconds);
    nodeSuccess.set(labels, o.outcome.success ? 1 : 0);
    nodeDuration.set(labels, o.outcome.durationSeconds);
  }
  return { sink, outcomes: outcomes.map((o) => o.outcome), startedAt, details };
}

async function runOne(
  c: Collector,
  signal: AbortSignal,
  deadline: Promise<never>,
  timeoutSeconds: number,
): Promise<{ outcome: CollectorOutcome; sink?: MetricSink; details?: CollectorDetails }> {
  const t0 = performance.now();
  const sink = new MetricSink();
  try {
    const details = await Promise.race([c.update(sink, signal), deadline]);
    return {
      outcome: { name: c.name, success: true, durationSeconds: (performance.now() - t0) / 1000 },
      sink,
      details: details ?? undefined,
    };
  } catch (err) {
    const error =
      err instanceof CollectorTimeoutError
        ? `collector ${c.name} ran past its ${timeoutSeconds} s deadline`
        : err instanceof Error
          ? err.message
          : String(err);
    return { outcome: { name: c.name, success: false, durationSeconds: (performance.now() - t0) / 1000, error } };
  }
}

/**
 * Shares one in-flight collection between overlapping callers: a scrape that
 * arrives while another is being collected waits for that one instead of
 * starting a second pass over /proc, cgroups and Docker.
 */
export class SingleFlight<T> {
  #inflight: Promise<T> | null = null;
  constructor(private readonly run: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.#inflight) {
      this.#inflight = this.run().finally(() => {
        this.#inflight = null;
      });
    }
    return this.#inflight;
  }
}
