import { afterAll, describe, expect, it } from 'vitest';
import { scrapeTarget } from './scrape.js';
import { closedPort, httpServer } from './testing/index.js';

const opts = { timeoutSeconds: 1, bodyLimitBytes: 1 << 20 };

describe('scrapeTarget', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  const serve = async (h: Parameters<typeof httpServer>[0]) => {
    const s = await httpServer(h);
    servers.push(s);
    return s.url;
  };

  it('reports a refused connection', async () => {
    const r = await scrapeTarget(`http://127.0.0.1:${await closedPort()}/metrics`, opts);
    expect(r).toMatchObject({ up: false, error: expect.stringMatching(/connection refused/) });
  });

  it('gives up on a target that hangs past its timeout, on time', async () => {
    const url = await serve(() => {}); // never answers
    const r = await scrapeTarget(url, { ...opts, timeoutSeconds: 0.3 });
    expect(r).toMatchObject({ up: false, error: 'timed out after 0.3 s' });
    expect(r.durationSeconds).toBeGreaterThanOrEqual(0.29);
    expect(r.durationSeconds).toBeLessThan(1.5);
  });

  it('gives up on a body that trickles past the timeout', async () => {
    const url = await serve((_, res) => {
      res.write('up 1\n');
      // ...and never ends
    });
    const r = await scrapeTarget(url, { ...opts, timeoutSeconds: 0.3 });
    expect(r).toMatchObject({ up: false, error: 'timed out after 0.3 s' });
  });

  it('reports an HTTP error status', async () => {
    const url = await serve((_, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    expect(await scrapeTarget(url, opts)).toMatchObject({ up: false, error: 'HTTP 500' });
  });

  it('reports garbage with the line that is wrong', async () => {
    const url = await serve((_, res) => res.end('up 1\n<html>oops</html>\n'));
    expect(await scrapeTarget(url, opts)).toMatchObject({
      up: false,
      error: 'malformed exposition at line 2, column 1: expected a metric name',
    });
  });

  it('refuses a body over the limit, declared or streamed', async () => {
    const big = 'x_total 1\n'.repeat(2000);
    const declared = await serve((_, res) => res.end(big));
    expect(await scrapeTarget(declared, { ...opts, bodyLimitBytes: 1024 })).toMatchObject({
      up: false,
      error: expect.stringMatching(/over the 1024-byte limit/),
    });
    const streamed = await serve((_, res) => {
      res.write(big);
      res.end(big);
    });
    expect(await scrapeTarget(streamed, { ...opts, bodyLimitBytes: 1024 })).toMatchObject({
      up: false,
      error: expect.stringMatching(/over the 1024-byte limit/),
    });
  });

  it('reports a connection closed before an answer', async () => {
    const url = await serve((req) => req.socket.destroy());
    expect(await scrapeTarget(url, opts)).toMatchObject({ up: false, error: 'connection closed by the target before it answered' });
  });

  it('reports an unknown host', async () => {
    const r = await scrapeTarget('http://no-such-host.invalid:9110/metrics', opts);
    expect(r).toMatchObject({ up: false, error: expect.stringMatching(/host name not found|timed out/) });
  });

  it('reads any port, including those browsers block', async () => {
    // 10080 is on the WHATWG fetch block list; a monitor must still reach it.
    const r = await scrapeTarget('http://127.0.0.1:10080/metrics', opts);
    expect(r).toMatchObject({ up: false });
    if (!r.up) expect(r.error).not.toMatch(/bad port/);
  });
});
