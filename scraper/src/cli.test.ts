import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@vigil/exporter';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTargetUrl, describeFailure, runDbCommand, UsageError } from './cli.js';
import { loadScraperConfig } from './config.js';
import { localUrl } from './start.js';

describe('vigil targets and migrate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
  const env = { DATABASE_URL: `pglite://${dir}` };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (...argv: string[]) => {
    let text = '';
    await runDbCommand(argv, (s) => (text += s), env);
    return text;
  };

  it('migrates, adds, lists, refuses duplicates and bad input, and removes', async () => {
    expect(await run('migrate')).toBe('applied: 2026-11-22T00-00-targets-heartbeats-events, 2026-11-22T06-00-notification-channels\n');
    expect(await run('migrate')).toBe('schema is up to date\n');
    expect(await run('targets', 'list')).toMatch(/^no targets/);
    expect(await run('targets', 'add', 'pi-1', 'http://pi-1.lan:9110', '--interval', '30s', '--label', 'rack=a')).toBe('added pi-1 (http://pi-1.lan:9110/metrics, every 30s)\n');
    const table = await run('targets', 'list');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+STATE\s+INTERVAL\s+TIMEOUT\s+URL$/);
    expect(table).toMatch(/^pi-1\s+unknown\s+30s\s+10s\s+http:\/\/pi-1\.lan:9110\/metrics$/m);
    const json = JSON.parse(await run('targets', 'list', '--json'));
    expect(json[0]).toMatchObject({ name: 'pi-1', labels: { rack: 'a' }, interval_seconds: 30 });
    await expect(run('targets', 'add', 'pi-1', 'http://x:9110/metrics')).rejects.toThrow(/exists already/);
    await expect(run('targets', 'add', 'pi 2', 'http://x:9110/metrics')).rejects.toThrow(UsageError);
    await expect(run('targets', 'add', 'pi-2', 'ftp://x')).rejects.toThrow(/http:\/\/ or https:\/\//);
    await expect(run('targets', 'add', 'pi-2', 'http://x/metrics', '--interval', 'often')).rejects.toThrow(/--interval "often"/);
    await expect(run('targets', 'add', 'pi-2', 'http://x/metrics', '--interval', '5s', '--timeout', '10s')).rejects.toThrow(/at most the interval/);
    await expect(run('targets', 'add', 'pi-2', 'http://x/metrics', '--label', 'no-equals')).rejects.toThrow(/key=value/);
    await expect(run('targets', 'add', 'pi-2')).rejects.toThrow(/usage: vigil targets add/);
    await expect(run('targets', 'frobnicate')).rejects.toThrow(/unknown command "vigil targets frobnicate"/);
    expect(await run('targets', 'remove', 'pi-1')).toBe('removed pi-1\n');
    await expect(run('targets', 'remove', 'pi-1')).rejects.toThrow(/no target named "pi-1"/);
    expect(await run('migrate', '--down')).toBe('reverted: 2026-11-22T06-00-notification-channels\n');
    expect(await run('migrate')).toBe('applied: 2026-11-22T06-00-notification-channels\n');
  });

  it('adds, lists and removes notification channels, refusing bad input with a reason', async () => {
    expect(await run('channels', 'list')).toMatch(/^no channels/);
    expect(await run('channels', 'add', 'ops', '--webhook', 'https://hooks.lan/vigil')).toBe('added ops (webhook https://hooks.lan/vigil); it gets the down and recovery events from now on\n');
    expect(await run('channels', 'add', 'am', '--alertmanager', 'http://am.lan:9093')).toMatch(/^added am \(alertmanager/);
    const table = await run('channels', 'list');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+KIND\s+ENABLED\s+URL$/);
    expect(table).toMatch(/^ops\s+webhook\s+yes\s+https:\/\/hooks\.lan\/vigil$/m);
    await expect(run('channels', 'add', 'ops', '--slack', 'https://x/y')).rejects.toThrow(UsageError);
    await expect(run('channels', 'add', 'two', '--slack', 'https://x/y', '--webhook', 'https://x/z')).rejects.toThrow(/usage: vigil channels add NAME/);
    await expect(run('channels', 'add', 'x', '--slack', 'not a url')).rejects.toThrow(/is not a URL/);
    await expect(run('channels', 'frob')).rejects.toThrow(/unknown command "vigil channels frob"/);
    expect(await run('channels', 'remove', 'ops')).toBe('removed ops\n');
    await expect(run('channels', 'remove', 'ops')).rejects.toThrow(/no channel named "ops"/);
  });
});

describe('checkTargetUrl', () => {
  it.each([
    ['http://h:9110', 'http://h:9110/metrics'],
    ['https://h/custom/path', 'https://h/custom/path'],
  ])('%s → %s', (raw, url) => expect(checkTargetUrl(raw)).toBe(url));
  it('refuses what is not a URL', () => expect(() => checkTargetUrl('pi-1:9110x')).toThrow(UsageError));
});

describe('describeFailure', () => {
  it.each([
    [new UsageError('bad'), 2],
    [new ConfigError('bad'), 2],
    [Object.assign(new Error('Unknown option --x'), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }), 2],
    [new Error('database is down'), 1],
  ])('%s → exit %i', (err, code) => expect(describeFailure(err).code).toBe(code));
});

describe('loadScraperConfig', () => {
  it('has defaults', () => {
    expect(loadScraperConfig({})).toMatchObject({ databaseUrl: undefined, listen: { host: '127.0.0.1', port: 9111 }, concurrency: 64, downAfterIntervals: 3, retentionDays: 30 });
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

describe('localUrl', () => {
  it.each([
    [{ host: '0.0.0.0', port: 9110 }, 'http://127.0.0.1:9110'],
    [{ host: '::', port: 9110 }, 'http://[::1]:9110'],
    [{ host: '::1', port: 3000 }, 'http://[::1]:3000'],
    [{ host: '10.0.0.5', port: 80 }, 'http://10.0.0.5:80'],
  ])('%o → %s', (listen, url) => expect(localUrl(listen)).toBe(url));
});
