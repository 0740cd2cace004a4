import { describe, expect, it } from 'vitest';
import { loadScraperConfig, SCRAPER_VARIABLES } from './config.js';
import { HELP } from './main.js';

describe('loadScraperConfig', () => {
  it('has defaults', () => {
    expect(loadScraperConfig({})).toMatchObject({
      databaseUrl: undefined,
      listen: { host: '127.0.0.1', port: 9111 },
      concurrency: 64,
      downAfterIntervals: 3,
      retentionDays: 30,
    });
  });
  it.each([
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL: must be postgres:\/\//],
    ['VIGIL_SCRAPE_CONCURRENCY', '0', /VIGIL_SCRAPE_CONCURRENCY: expected a whole number from 1/],
    ['VIGIL_RETENTION_DAYS', 'forever', /VIGIL_RETENTION_DAYS/],
    ['VIGIL_EXPORTER_TOKEN', 'abc', /VIGIL_EXPORTER_TOKEN: expected at least 16/],
  ])('stops on a bad %s', (name, value, message) => {
    expect(() => loadScraperConfig({ [name]: value })).toThrow(message);
  });
});

describe('vigil-scraper --help', () => {
  it('names every variable the scraper reads', () => {
    expect(SCRAPER_VARIABLES.length).toBeGreaterThan(8);
    for (const v of SCRAPER_VARIABLES) expect(HELP).toContain(v);
  });
});
