import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import { AppError, errorHandler } from '@vigil/core/errors';
import type { Logger } from '@vigil/core/log';
import { VIGIL_EXPORTER_PTY_SESSIONS } from '@vigil/core/metric-names';
import { CONTENT_TYPES, MetricSink, renderFamilies } from '@vigil/core/render';
import Koa, { type Middleware } from 'koa';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type Collection, type Collector, collect, SingleFlight } from './collector.js';
import type { Goodbye } from './goodbye.js';
import { HeapTrimmer } from './heap.js';
import type { ProbeAllowList } from './probe/allow.js';
import { type ProbeModule, probeTimeout } from './probe/modules.js';
import { runProbe } from './probe/prober.js';
import { type StatsView, ViewBuilder } from './views.js';

/**
 * The bearer tokens an exporter accepts: the fleet-wide VIGIL_EXPORTER_TOKEN,
 * and an enrolled host's own credential (set once the console answers). Kept as
 * SHA-256 digests, compared in constant time; `required` even while empty (an
 * enrolling exporter refuses everything until it has its credential).
 */
export class Credentials {
  readonly #digests = new Map<string, Buffer>();

  constructor(readonly required: boolean) {}

  /** Credentials holding one token, required when there is one. */
  static of(token: string | undefined): Credentials {
    const c = new Credentials(token !== undefined);
    c.set('token', token);
    return c;
  }

  /** Accepts `token` under `name` (replacing that name's), or forgets it when undefined. */
  set(name: string, token: string | undefined): void {
    if (token === undefined) this.#digests.delete(name);
    else this.#digests.set(name, createHash('sha256').update(token).digest());
  }

  /** Whether `given` is one of the tokens. */
  accepts(given: string): boolean {
    const d = createHash('sha256').update(given).digest();
    let ok = false;
    for (const expected of this.#digests.values()) ok = timingSafeEqual(d, expected) || ok;
    return ok;
  }
}

/**
 * Requires `Authorization: Bearer <token>` when credentials are required, on
 * every path but those listed as public. Never logs or echoes the token.
 */
export function bearerAuth(credentials: Credentials | string | undefined, publicPaths: readonly string[]): Middleware {
  const creds = credentials instanceof Credentials ? credentials : Credentials.of(credentials);
  return async (ctx, next) => {
    if (creds.required && !publicPaths.includes(ctx.path)) {
      const header = ctx.get('authorization');
      const given = header.slice(0, 7).toLowerCase() === 'bearer ' ? header.slice(7).trim() : '';
      if (given === '' || !creds.accepts(given)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="vigil-exporter"');
        throw new AppError(
          401,
          'unauthorized',
          "missing or wrong bearer token: send Authorization: Bearer $VIGIL_EXPORTER_TOKEN (or the host's enrolled credential)",
        );
      }
    }
    await next();
  };
}

export interface ExporterAppOptions {
  collectors: readonly Collector[];
  collectorTimeoutSeconds: number;
  token: string | undefined;
  /** The tokens accepted, when more than `token` (an enrolled host's credential); replaces `token`. */
  credentials?: Credentials;
  log: Logger;
  /** Runs a full GC after collections when the heap has grown (default: one using `--expose-gc`'s gc when present). */
  heapTrimmer?: HeapTrimmer;
  /** Answers goodbye to every request once a clean shutdown has begun. */
  goodbye?: Goodbye;
  /** blackbox_exporter's multi-target `/probe`: its modules, and the targets it may reach (null: /probe refuses every target). */
  probe?: { modules: ReadonlyMap<string, ProbeModule>; allow: ProbeAllowList | null };
  /** The PTY socket, when on: its open sessions are exported and shown on /health. */
  pty?: { sessions: () => number };
}

/** A Registry with prom-client's process_* and nodejs_* metrics and the heap trimmer's count, in one exposition format. */
function processRegistry(contentType: string, trimmer: HeapTrimmer, pty: ExporterAppOptions['pty']): Registry {
  const r = registryOf(contentType);
  if (pty)
    new Gauge({
      name: VIGIL_EXPORTER_PTY_SESSIONS.name,
      help: VIGIL_EXPORTER_PTY_SESSIONS.help,
      registers: [r],
      collect() {
        this.set(pty.sessions());
      },
    });
  collectDefaultMetrics({ register: r as never });
  new Counter({
    name: 'vigil_exporter_heap_trims_total',
    help: 'Full garbage collections the exporter ran between scrapes to keep its heap near its live size.',
    registers: [r],
    collect() {
      this.reset();
      this.inc(trimmer.trims);
    },
  });
  // Gauges with a counter's suffix (promtool flags them); nodejs_active_handles,
  // _requests and _resources by type carry the same counts. And the event-loop
  // lag statistics: computing them from the delay histogram is a tenth of a
  // scrape's CPU, and the one remaining lag gauge computes them all.
  const dropped = [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
    'nodejs_eventloop_lag_seconds',
    ...['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map((s) => `nodejs_eventloop_lag_${s}_seconds`),
  ];
  for (const name of dropped) r.removeSingleMetric(name);
  return r;
}

/**
 * The exporter's Koa app: `/health` (no auth, nothing sensitive), `/metrics`
 * (text 0.0.4, or OpenMetrics 1.0 when the `Accept` header asks for it), and the
 * JSON views `/stats`, `/host`, `/containers`, `/services` of the same collection.
 * Overlapping requests share one collection.
 */
export function createExporterApp(opts: ExporterAppOptions): Koa {
  const app = new Koa();
  const failing = new Set<string>();
  const views = new ViewBuilder();
  const trimmer = opts.heapTrimmer ?? new HeapTrimmer();
  const collection = new SingleFlight<Collection>(async () => {
    const c = await collect(opts.collectors, opts.collectorTimeoutSeconds);
    // Log changes, not every scrape: a collector starting to fail, and recovering.
    for (const o of c.outcomes) {
      if (!o.success && !failing.has(o.name))
        opts.log.warn({ collector: o.name, err: o.error }, 'collector failed; its series are missing until it recovers');
      if (o.success && failing.has(o.name)) opts.log.info({ collector: o.name }, 'collector recovered');
      if (o.success) failing.delete(o.name);
      else failing.add(o.name);
    }
    views.update(c);
    trimmer.afterCollection();
    return c;
  });
  // The OpenMetrics one is made on the first scrape that asks for OpenMetrics.
  const registries: { text: Registry; openMetrics: Registry | null } = {
    text: processRegistry(CONTENT_TYPES.text, trimmer, opts.pty),
    openMetrics: null,
  };
  const router = new Router();

  router.get('/health', (ctx) => {
    ctx.body = opts.pty ? { status: 'ok', pty: { sessions: opts.pty.sessions() } } : { status: 'ok' };
  });

  const json = (pick: (v: StatsView) => unknown) => async (ctx: Koa.Context) => {
    await collection.get();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = pick(views.latest!);
  };
  router.get(
    '/stats',
    json((v) => (opts.pty ? { ...v, pty: { sessions: opts.pty.sessions() } } : v)),
  );
  router.get(
    '/host',
    json((v) => v.host),
  );
  router.get(
    '/containers',
    json((v) => v.containers),
  );
  router.get(
    '/services',
    json((v) => v.services),
  );

  router.get('/metrics', async (ctx) => {
    const openMetrics = /application\/openmetrics-text/.test(ctx.get('accept'));
    const base = openMetrics ? (registries.openMetrics ??= processRegistry(CONTENT_TYPES.openMetrics, trimmer, opts.pty)) : registries.text;
    const { sink } = await collection.get();
    // The collection's families first, then the exporter's own process_* and
    // nodejs_* (prom-client ends OpenMetrics with `# EOF`).
    const ours = renderFamilies(sink.families, openMetrics);
    ctx.set('Content-Type', base.contentType);
    ctx.body = (ours ? ours + (openMetrics ? '\n' : '\n\n') : '') + (await base.metrics());
  });

  // blackbox_exporter's multi-target pattern: a Prometheus job written for it
  // (relabelling __param_target to instance) works against this unchanged.
  router.get('/probe', async (ctx) => {
    const target = typeof ctx.query.target === 'string' ? ctx.query.target : '';
    const name = typeof ctx.query.module === 'string' ? ctx.query.module : 'http_2xx';
    const modules = opts.probe?.modules ?? new Map<string, ProbeModule>();
    if (!target)
      throw new AppError(400, 'bad_request', 'the target parameter is missing: /probe?target=https://example.org/&module=http_2xx');
    const m = modules.get(name);
    if (!m) throw new AppError(400, 'bad_request', `unknown module ${JSON.stringify(name)}; known: ${[...modules.keys()].join(', ')}`);
    if (m.prober === 'unsupported') throw new AppError(400, 'bad_request', m.reason);
    const allow = opts.probe?.allow ?? null;
    if (!allow)
      throw new AppError(
        403,
        'forbidden',
        '/probe reaches no target until VIGIL_PROBE_ALLOW lists the host names, *.domains and address ranges it may (e.g. *.lan,10.0.0.0/8)',
      );
    const sink = new MetricSink();
    const timeout = probeTimeout(m.timeoutSeconds, ctx.get('x-prometheus-scrape-timeout-seconds') || undefined);
    const outcome = await runProbe(target, m, allow, sink, {}, timeout);
    if (!outcome.success) opts.log.debug({ module: name, target, err: outcome.error }, 'probe failed');
    ctx.set('Content-Type', CONTENT_TYPES.text);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = `${renderFamilies([...sink.families.values()].sort((a, b) => (a.name < b.name ? -1 : 1)))}\n`;
  });

  app.on('error', (err: unknown) => opts.log.error({ err }, 'request failed'));
  app.use(errorHandler());
  app.use(bearerAuth(opts.credentials ?? opts.token, ['/health']));
  if (opts.goodbye) app.use(opts.goodbye.middleware());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

function registryOf(contentType: string): Registry {
  const r = new Registry();
  r.setContentType(contentType as never);
  return r;
}
