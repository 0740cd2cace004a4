/**
 * The scraper's own series, served on its /metrics: scrapes, their lateness and
 * duration, each target's up, transitions, and what the writer, the notifier,
 * the scrape pool and the scheduler count (read from them at collection time).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AlertNotifier } from './alert-notify.js';
import type { AlertEngine } from './alerts.js';
import type { Membership } from './membership.js';
import type { Notifier } from './notify.js';
import type { ScrapePool } from './scrape-pool.js';
import type { HeartbeatWriter } from './writer.js';

/** What the collected series read at collection time. */
export interface MetricSources {
  writer: HeartbeatWriter;
  notifier: Notifier;
  pool: ScrapePool;
  /** Targets known to the scraper. */
  targets: () => number;
  /** Scrapes skipped because the previous one of the target ran through a whole slot. */
  skipped: () => number;
  membership: Membership;
  alerts: AlertEngine;
  alertNotifier: AlertNotifier;
}

/**
 * Registers the scraper's series on `registry`.
 * @returns the ones the scraper updates itself: scrapes, lateness, duration, targetUp, transitions
 */
export function scraperMetrics(registry: Registry, sources: MetricSources) {
  const registers = [registry];
  const { writer, notifier, pool } = sources;
  const metrics = {
    scrapes: new Counter({
      name: 'vigil_scraper_scrapes_total',
      help: 'Scrapes finished, by result (up or down).',
      labelNames: ['result'],
      registers,
    }),
    lateness: new Histogram({
      name: 'vigil_scraper_scrape_lateness_seconds',
      help: 'How long after its slot (its phase within its interval) each scrape started, in seconds.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    duration: new Histogram({
      name: 'vigil_scraper_scrape_duration_seconds',
      help: 'How long scrapes took, in seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    targetUp: new Gauge({
      name: 'vigil_target_up',
      help: 'Whether the last scrape of a target succeeded (1) or not (0).',
      labelNames: ['target'],
      registers,
    }),
    transitions: new Counter({
      name: 'vigil_scraper_transitions_total',
      help: 'Target state transitions written, by new state.',
      labelNames: ['state'],
      registers,
    }),
  };
  new Gauge({
    name: 'vigil_scraper_heartbeats_queued',
    help: 'Heartbeats waiting to be written.',
    registers,
    collect() {
      this.set(writer.queued);
    },
  });
  // Counters mirrored from the writer's own counts at collection time.
  new Counter({
    name: 'vigil_scraper_heartbeats_written_total',
    help: 'Heartbeats written to the database.',
    registers,
    collect() {
      this.reset();
      this.inc(writer.stats.written);
    },
  });
  new Counter({
    name: 'vigil_scraper_heartbeats_dropped_total',
    help: 'Heartbeats dropped because the queue was full while the database was away.',
    registers,
    collect() {
      this.reset();
      this.inc(writer.stats.dropped);
    },
  });
  new Counter({
    name: 'vigil_scraper_heartbeat_write_failures_total',
    help: 'Batch writes that failed and were retried.',
    registers,
    collect() {
      this.reset();
      this.inc(writer.stats.failedWrites);
    },
  });
  new Counter({
    name: 'vigil_scraper_notifications_total',
    help: 'Notification attempts, by result: sent, retry (failed, will be tried again), failed (given up).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      this.inc({ result: 'sent' }, notifier.stats.sent);
      this.inc({ result: 'retry' }, notifier.stats.retried);
      this.inc({ result: 'failed' }, notifier.stats.failed);
    },
  });
  new Counter({
    name: 'vigil_scraper_alert_evaluations_total',
    help: 'Heartbeats evaluated against the alert rules.',
    registers,
    collect() {
      this.reset();
      this.inc(sources.alerts.stats.evaluated);
    },
  });
  new Counter({
    name: 'vigil_scraper_alert_changes_total',
    help: 'Alert changes written: opened (pending or firing), fired, resolved, or cleared.',
    registers,
    collect() {
      this.reset();
      this.inc(sources.alerts.stats.changes);
    },
  });
  new Counter({
    name: 'vigil_scraper_alert_messages_total',
    help: 'Grouped alert messages to channels, by result: sent, or failed (tried again later).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      this.inc({ result: 'sent' }, sources.alertNotifier.stats.sent);
      this.inc({ result: 'failed' }, sources.alertNotifier.stats.failed);
    },
  });
  new Gauge({
    name: 'vigil_scraper_targets',
    help: 'Targets this replica scrapes (owns, or handed on moments ago).',
    registers,
    collect() {
      this.set(sources.targets());
    },
  });
  const { membership } = sources;
  new Gauge({
    name: 'vigil_scraper_replica_info',
    help: 'This scraper replica: its id in the scrapers table (always 1).',
    labelNames: ['replica'],
    registers,
    collect() {
      this.set({ replica: membership.id }, 1);
    },
  });
  new Gauge({
    name: 'vigil_scraper_owned_targets',
    help: 'Targets this replica owns: it scrapes them, judges their liveness and sends their alerts.',
    registers,
    collect() {
      this.set(membership.owned.size);
    },
  });
  new Gauge({
    name: 'vigil_scraper_live_replicas',
    help: 'Scraper replicas seen within the membership timeout at the last heartbeat, this one included.',
    registers,
    collect() {
      this.set(membership.liveMembers);
    },
  });
  new Counter({
    name: 'vigil_scraper_rebalance_moves_total',
    help: 'Targets this replica moved between replicas when it shared them out.',
    registers,
    collect() {
      this.reset();
      this.inc(membership.moves);
    },
  });
  new Gauge({
    name: 'vigil_scraper_clock_offset_seconds',
    help: "The database's clock minus this machine's, in seconds (the scraper keeps time by the database's).",
    registers,
    collect() {
      this.set(membership.offsetMs / 1000);
    },
  });
  new Gauge({
    name: 'vigil_scraper_scrape_threads',
    help: 'Worker threads making scrapes now (it starts with one and adds one while they are busy, up to VIGIL_SCRAPE_THREADS).',
    registers,
    collect() {
      this.set(pool.threads);
    },
  });
  new Counter({
    name: 'vigil_scraper_scrapes_skipped_total',
    help: 'Scrapes not made because the previous scrape of the target ran through a whole slot.',
    registers,
    collect() {
      this.reset();
      this.inc(sources.skipped());
    },
  });
  return metrics;
}
