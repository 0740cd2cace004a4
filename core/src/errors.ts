import type { Middleware } from 'koa';

/**
 * The one error type HTTP handlers throw: an HTTP status, a stable machine
 * `code`, and a message; `expose` says whether the message may reach the client
 * (by default only for 4xx).
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly expose = status < 500,
  ) {
    super(message);
  }
}

/**
 * Koa middleware, first in the chain: turns what handlers throw into
 * `{error: {code, message}}` with the right status. An {@link AppError} keeps its
 * status and, when exposed, its message; anything else answers 500 "internal
 * error" and is emitted as the app's `error` event (logged there), so no stack
 * trace or internal message reaches a client.
 */
export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError(500, 'internal', 'internal error', false);
      ctx.status = e.status;
      ctx.body = { error: { code: e.code, message: e.expose ? e.message : 'internal error' } };
      if (!(err instanceof AppError)) ctx.app.emit('error', err, ctx);
    }
  };
}
