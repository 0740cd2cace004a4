import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { AppError, errorHandler } from './errors.js';

async function serve(handler: Koa.Middleware) {
  const app = new Koa();
  const emitted: unknown[] = [];
  app.on('error', (e) => emitted.push(e));
  app.use(errorHandler());
  app.use(handler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  return { url, emitted, close: () => server.close() };
}

describe('errorHandler', () => {
  it('answers an AppError with its status, code and message, and does not log it', async () => {
    const s = await serve(() => {
      throw new AppError(404, 'not_found', 'no such host');
    });
    const r = await fetch(s.url);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: { code: 'not_found', message: 'no such host' } });
    expect(s.emitted).toEqual([]);
    s.close();
  });

  it('hides anything else behind 500 "internal error" and emits it for the log', async () => {
    const s = await serve(() => {
      throw new Error('password=hunter2 in a query');
    });
    const r = await fetch(s.url);
    expect(r.status).toBe(500);
    expect(await r.text()).not.toContain('hunter2');
    expect(s.emitted).toHaveLength(1);
    s.close();
  });

  it('keeps a 5xx AppError message private unless told to expose it', () => {
    expect(new AppError(503, 'down', 'db at 10.0.0.5 refused').expose).toBe(false);
    expect(new AppError(400, 'bad', 'bad input').expose).toBe(true);
  });
});
