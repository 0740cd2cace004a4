import { createHash, timingSafeEqual } from 'node:crypto';
import { RELAYED_REQUEST_HEADERS, relayedPath } from '@vigil/core/connect';
import { getTarget } from '@vigil/db';
import { ApiError, api, idOf } from '$lib/server/api';
import { clientAddress } from '$lib/server/auth';
import { connectHub, RelayError } from '$lib/server/connect';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import type { RequestHandler } from './$types';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * A host that connects out, scraped through the console: `GET
 * /api/v1/connect/<id>/metrics` (also `/health`, `/stats`, `/host`,
 * `/containers`, `/services`, `/probe`) is relayed over the host's socket and
 * answered with its exporter's response. Needs the host's own scrape credential
 * as `Authorization: Bearer` (what the scraper sends), or an API key (for
 * Prometheus). 503 when the host is not connected, 504 when it does not answer in time.
 */
export const GET: RequestHandler = api(async (event) => {
  const id = idOf(event.params.id);
  const path = `/${event.params.endpoint}${event.url.search}`;
  if (!relayedPath(path))
    throw new ApiError(404, 'not_found', 'only /metrics, /health, /stats, /host, /containers, /services and /probe are relayed');
  const hub = await connectHub();
  // A connected host is known to the hub (no query per scrape); else the database says why it cannot be relayed.
  const connected = hub.host(id);
  const stored = connected ? undefined : await getTarget(await getDb(), id);
  const target = connected ?? (stored && { name: stored.name, token: stored.token, timeoutSeconds: stored.timeout_seconds });
  if (!event.locals.principal) {
    const auth = event.request.headers.get('authorization') ?? '';
    const given = auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7).trim() : '';
    // The same answer whether the host exists or the credential is wrong: nothing to learn by guessing ids.
    if (!target?.token || !given || !timingSafeEqual(digest(given), digest(target.token)))
      throw new ApiError(401, 'unauthenticated', "send the host's scrape credential, or an API key, as Authorization: Bearer");
  }
  if (!target) throw new ApiError(404, 'not_found', `no target with id ${id}`);
  if (stored && !stored.connects_out) throw new ApiError(409, 'conflict', `${target.name} does not connect out; scrape it at its own URL`);
  const headers: Record<string, string> = {};
  for (const h of RELAYED_REQUEST_HEADERS) {
    const v = event.request.headers.get(h);
    if (v !== null) headers[h] = v.slice(0, 500);
  }
  const timeout = Math.min(60, Math.max(1, Number(headers['x-prometheus-scrape-timeout-seconds']) || target.timeoutSeconds || 10));
  try {
    const r = await hub.relay(id, { method: 'GET', path, headers, remote: clientAddress(event) ?? undefined }, timeout);
    return new Response(r.body as unknown as BodyInit, {
      status: r.status,
      headers: { ...r.headers, 'cache-control': 'no-store' },
    });
  } catch (e) {
    if (e instanceof RelayError) throw new ApiError(e.code === 'timeout' ? 504 : 503, e.code, `${target.name}: ${e.message}`);
    throw e;
  }
});

export const _spec = routeSpec({
  GET: { summary: 'A host that connects out, scraped through the console (its credential or an API key)' },
});
