import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '@vigil/core/log';
import { EXPORTER_STATE_HEADER, SCRAPE_INTERVAL_HEADER } from '@vigil/core/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createExporterApp } from './app.js';
import { Goodbye } from './goodbye.js';

const TOKEN = 'a-token-of-sixteen-or-more';

/** The exporter's app with no collectors and `goodbye`, on a loopback port. */
async function serve(goodbye: Goodbye): Promise<{ url: string; close(): Promise<void> }> {
  const app = createExporterApp({ collectors: [], collectorTimeoutSeconds: 1, token: TOKEN, log: silentLogger(), goodbye });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A scrape as the Vigil scraper makes it (interval header), or as anyone else does. */
function scrape(url: string, o: { interval?: number; agent?: string; token?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${o.token ?? TOKEN}`, 'user-agent': o.agent ?? 'vigil-scraper' };
  if (o.interval) headers[SCRAPE_INTERVAL_HEADER] = String(o.interval);
  return fetch(`${url}/metrics`, { headers });
}

describe('goodbye', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('answers every request 503 stopping, and ends the wait once each recent scraper has heard it', async () => {
    const goodbye = new Goodbye(60);
    const s = await serve(goodbye);
    closers.push(s.close);
    expect((await scrape(s.url, { interval: 30 })).status).toBe(200);
    expect((await scrape(s.url, { interval: 30, agent: 'another-scraper' })).status).toBe(200);
    expect((await scrape(s.url, { agent: 'prometheus' })).status).toBe(200); // no interval: not waited for

    let ended = false;
    const stopped = goodbye.stop().then((r) => {
      ended = true;
      return r;
    });
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(503);
    expect(health.headers.get(EXPORTER_STATE_HEADER)).toBe('stopping');
    expect(await health.json()).toEqual({ status: 'stopping' });

    // Not authenticated: refused as before, and it does not count.
    expect((await scrape(s.url, { interval: 30, token: 'wrong-token-0123456789' })).status).toBe(401);
    const first = await scrape(s.url, { interval: 30 });
    expect(first.status).toBe(503);
    expect(first.headers.get(EXPORTER_STATE_HEADER)).toBe('stopping');
    await first.text();
    await new Promise((r) => setImmediate(r));
    expect(ended).toBe(false); // one of two scrapers told

    await (await scrape(s.url, { interval: 30, agent: 'another-scraper' })).text();
    expect(await stopped).toEqual({ expected: 2, told: 2 });
    expect(goodbye.stopping).toBe(true);
  });

  it('does not wait when no Vigil scraper came by recently, and a second stop is a no-op', async () => {
    // With a grace period longer than the test's timeout, a wait would fail the test.
    const goodbye = new Goodbye(600);
    expect(await goodbye.stop()).toEqual({ expected: 0, told: 0 });
    expect(await goodbye.stop()).toEqual({ expected: 0, told: 0 });
  });

  it('waits no longer than the grace period, and a cut ends the wait', async () => {
    const s1 = new Goodbye(0.2);
    const a = await serve(s1);
    closers.push(a.close);
    await (await scrape(a.url, { interval: 30 })).text();
    expect(await s1.stop()).toEqual({ expected: 1, told: 0 }); // grace over: the scraper never came back

    const s2 = new Goodbye(600);
    const b = await serve(s2);
    closers.push(b.close);
    await (await scrape(b.url, { interval: 30 })).text();
    const stopped = s2.stop();
    s2.cut();
    expect(await stopped).toEqual({ expected: 1, told: 0 });
  });

  it('gives up on a scraper whose next scrape is overdue by half an interval and a second', async () => {
    const goodbye = new Goodbye(600);
    const s = await serve(goodbye);
    closers.push(s.close);
    await (await scrape(s.url, { interval: 0.1 })).text();
    // Last seen now, every 0.1 s: due by now + 1.15 s at the latest, far inside the grace period.
    expect(await goodbye.stop()).toEqual({ expected: 1, told: 0 });
  });
});
