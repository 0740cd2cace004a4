import { variableDocProblems } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { loadScraperConfig, SCRAPER_SCHEMA, SCRAPER_VARIABLE_DOCS } from './config.js';
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
  it('reads the guarded addresses scrapes may reach', () => {
    expect(loadScraperConfig({}).scrapeAllow).toEqual([]);
    expect(loadScraperConfig({ VIGIL_SCRAPE_ALLOW: '169.254.10.0/24, fe80::1' }).scrapeAllow).toEqual(['169.254.10.0/24', 'fe80::1']);
  });
  it.each([
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL: must be postgres:\/\//],
    ['VIGIL_SCRAPE_CONCURRENCY', '0', /VIGIL_SCRAPE_CONCURRENCY: expected a whole number from 1/],
    ['VIGIL_RETENTION_DAYS', 'forever', /VIGIL_RETENTION_DAYS/],
    ['VIGIL_EXPORTER_TOKEN', 'abc', /VIGIL_EXPORTER_TOKEN: expected at least 16/],
    ['VIGIL_SCRAPE_ALLOW', '169.254.0.0/16,metadata', /VIGIL_SCRAPE_ALLOW: "metadata" is not an IP address or a CIDR range/],
  ])('stops on a bad %s', (name, value, message) => {
    expect(() => loadScraperConfig({ [name]: value })).toThrow(message);
  });
});

describe('VIGIL_TARGETS', () => {
  it('reads name=url entries, a bare host getting /metrics', () => {
    expect(loadScraperConfig({ VIGIL_TARGETS: ' web-1=http://h:9110 ,,db=https://db.lan/metrics' }).staticTargets).toEqual([
      { name: 'web-1', url: 'http://h:9110/metrics' },
      { name: 'db', url: 'https://db.lan/metrics' },
    ]);
    expect(loadScraperConfig({}).staticTargets).toEqual([]);
  });

  it('refuses an entry without a name, a bad URL and a name given twice, saying which', () => {
    expect(() => loadScraperConfig({ VIGIL_TARGETS: 'http://h:9110' })).toThrow(
      /VIGIL_TARGETS: expected name=url entries separated by commas; "http:\/\/h:9110" has no valid target name/,
    );
    expect(() => loadScraperConfig({ VIGIL_TARGETS: 'bad name=http://h' })).toThrow(/"bad name=http:\/\/h" has no valid target name/);
    expect(() => loadScraperConfig({ VIGIL_TARGETS: 'a=ftp://h' })).toThrow(/VIGIL_TARGETS: target a: .*http/);
    expect(() => loadScraperConfig({ VIGIL_TARGETS: 'a=http://h,a=http://i' })).toThrow(/target a is named twice/);
  });
});

describe("the scraper's variables", () => {
  it('are described once, and its --help, the README and the schema agree (names, defaults, meanings)', () => {
    expect(Object.keys(SCRAPER_VARIABLE_DOCS).length).toBeGreaterThan(8);
    expect(variableDocProblems('scraper', SCRAPER_SCHEMA, SCRAPER_VARIABLE_DOCS, HELP)).toEqual([]);
    for (const doc of Object.values(SCRAPER_VARIABLE_DOCS)) expect(HELP).toContain(doc.meaning.split(' ').slice(0, 3).join(' '));
  });
});
