import Router from '@koa/router';
import { AppError, errorHandler } from '@vigil/core/errors';
import type { Logger } from '@vigil/core/log';
import { validLabels } from '@vigil/core/target-schema';
import Koa from 'koa';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Scraper } from './scraper.js';

/**
 * The scraper's own HTTP face: `/metrics` (its scrape and write counters plus
 * process metrics), `/health`, and `/sd`, a Prometheus HTTP service-discovery
 * document listing the same targets, so a Prometheus can scrape the fleet too.
 */
export function createScraperApp(scraper: Scraper, log: Logger): Koa {
  const app = new Koa();
  const processRegistry = new Registry();
  collectDefaultMetrics({ register: processRegistry });
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok', targets: scraper.targets.length, heartbeatsQueued: scraper.writer.queued };
  });
  router.get('/metrics', async (ctx) => {
    const merged = Registry.merge([scraper.registry, processRegistry]);
    ctx.set('Content-Type', merged.contentType);
    ctx.body = await merged.metrics();
  });
  router.get('/sd', (ctx) => {
    ctx.body = scraper.targets.map((t) => {
      let u: URL;
      try {
        u = new URL(t.url);
      } catch {
        throw new AppError(500, 'bad_target', `target ${t.name} has an unreadable URL`);
      }
      return {
        targets: [u.host],
        labels: {
          ...validLabels(t.labels),
          __scheme__: u.protocol.replace(':', ''),
          __metrics_path__: u.pathname,
          // A host that connects out is reached through the console's relay (an API key opens it to Prometheus).
          __meta_vigil_connects_out: String(t.connects_out ?? false),
          vigil_target: t.name,
        },
      };
    });
  });
  app.on('error', (err: unknown) => log.error({ err }, 'request failed'));
  app.use(errorHandler());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
