import path from 'node:path';
import { scrapeTarget } from '@vigil/core/scrape';
import { fixtureTree } from '@vigil/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startExporterProcess } from '../test/exporter.js';

const FIXTURE_PROC = path.join(fixtureTree('this-host'), 'proc');
const TOKEN = 'scrape-test-token-0123456789';
const opts = { timeoutSeconds: 1, bodyLimitBytes: 1 << 20 };

describe('scrapeTarget', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  it('reads a real exporter, sending the token', async () => {
    const exporter = await startExporterProcess({ VIGIL_PROC: FIXTURE_PROC, VIGIL_EXPORTER_TOKEN: TOKEN });
    servers.push(exporter);
    const ok = await scrapeTarget(`${exporter.url}/metrics`, { ...opts, token: TOKEN });
    expect(ok.up).toBe(true);
    if (ok.up) expect(ok.parsed.some((s) => s.name === 'node_memory_MemTotal_bytes')).toBe(true);
    const denied = await scrapeTarget(`${exporter.url}/metrics`, opts);
    expect(denied).toMatchObject({ up: false, error: expect.stringMatching(/HTTP 401: check that VIGIL_EXPORTER_TOKEN is the same/) });
  });
});
