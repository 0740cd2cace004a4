import type { FleetEvent } from '$lib/api';
import { ApiError, api, principalOf } from '$lib/server/api';
import { authenticate, credentialOf } from '$lib/server/auth';
import { consoleConfig } from '$lib/server/config';
import { getDb } from '$lib/server/db';
import { fleetFeed, registerStream } from '$lib/server/live';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

/** A stream is closed after this long; the browser reconnects at once, and the hook checks its session again. */
const MAX_STREAM_MS = 5 * 60_000;
/** A comment this often keeps proxies from timing the stream out, and the stream's credential is checked again. */
const KEEP_ALIVE_MS = 15_000;

const encoder = new TextEncoder();

/**
 * The fleet, live, as Server-Sent Events: `snapshot` (every host), then
 * `update` (the hosts that changed, the ids removed) as the shared feed sees
 * them; one database read per update whatever the number of pages open.
 * 503 when the database cannot be read. A stream ends after 5 minutes, and at
 * once when its user signs out or their account, role or keys change on this
 * console, within 15 s when that happened on another replica (the credential
 * is checked again with each keep-alive): the browser reconnects, and the
 * hook checks it again.
 */
export const GET: RequestHandler = api(async (event) => {
  const { request } = event;
  const { user } = principalOf(event);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      stop();
    },
  });
  const write = (text: string) => {
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      stop(); // closed under us
    }
  };
  write('retry: 2000\n\n');
  let unsubscribe: () => void;
  try {
    unsubscribe = await fleetFeed().subscribe((e: FleetEvent) => write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
  } catch {
    throw new ApiError(503, 'unavailable', 'the database cannot be read now; try again shortly');
  }
  const credential = credentialOf(request.headers, event.cookies);
  const keepAlive = setInterval(() => {
    write(': keep-alive\n\n');
    // Signed out through another console replica: this one learns it from the database.
    void getDb()
      .then((db) => authenticate(db, credential, consoleConfig().session))
      .then((still) => {
        if (!still) end();
      })
      .catch(() => {}); // the database away: the stream goes on, and the next check decides
  }, KEEP_ALIVE_MS);
  const end = () => {
    stop();
    try {
      controller.close();
    } catch {}
  };
  const maxAge = setTimeout(end, MAX_STREAM_MS);
  const forget = registerStream(user.id, end);
  let stopped = false;
  stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(keepAlive);
    clearTimeout(maxAge);
    unsubscribe();
    forget();
    request.signal.removeEventListener('abort', stop);
  };
  request.signal.addEventListener('abort', stop);
  if (request.signal.aborted) stop();
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  });
});

export const _spec = routeSpec({
  GET: { summary: 'Server-Sent Events: a snapshot of the fleet, then the hosts that changed', produces: 'text/event-stream' },
});
