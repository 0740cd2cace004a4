import path from 'node:path';
import { closedPort, fixtureTree, httpServer } from '@vigil/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startExporterProcess } from '../test/exporter.js';
import { scrapeTarget } from './scrape.js';

const FIXTURE_PROC = path.join(fixtureTree('this-host'), 'proc');
const TOKEN = 'scrape-test-token-0123456789';
const opts = { timeoutSeconds: 1, bodyLimitBytes: 1 << 20 };

describe('scrapeTarget', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  const serve = async (h: Parameters<typeof httpServer>[0]) => {
    const s = await httpServer(h);
    servers.push(s);
    return s.url;
  };

  it('reads a real exporter, sending the token', async () => {
    const exporter = await startExporterProcess({ VIGIL_PROC: FIXTURE_PROC, VIGIL_EXPORTER_TOKEN: TOKEN });
    servers.push(exporter);
    const ok = await scrapeTarget(`${exporter.url}/metrics`, { ...opts, token: TOKEN });
    expect(ok.up).toBe(true);
    if (ok.up) expect(ok.parsed.some((s) => s.name === 'node_memory_MemTotal_bytes')).toBe(true);
    const denied = await scrapeTarget(`${exporter.url}/metrics`, opts);
    expect(denied).toMatchObject({ up: false, error: expect.stringMatching(/HTTP 401: check that VIGIL_EXPORTER_TOKEN is the same/) });
  });

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
      error: expect.stringMatching(/^malformed exposition at line 2: expected a metric name/),
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
