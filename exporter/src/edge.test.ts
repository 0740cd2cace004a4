import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readHwmonTemps } from './collectors/hwmon.js';
import { ContainerCache, DockerClient, DockerError } from './docker.js';
import { ConfigError, integer, parseEnv } from './env.js';
import { createLogger } from './log.js';

describe('hwmon chips as node_exporter names them', () => {
  const sys = mkdtempSync(path.join(tmpdir(), 'vigil-hwmon-'));
  afterAll(() => rmSync(sys, { recursive: true, force: true }));

  it('names a chip by its device path, reads labels, skips chips without temperatures', async () => {
    const device = path.join(sys, 'devices/platform/coretemp.0');
    const chip = path.join(device, 'hwmon/hwmon3');
    mkdirSync(chip, { recursive: true });
    writeFileSync(path.join(chip, 'name'), 'coretemp\n');
    writeFileSync(path.join(chip, 'temp1_input'), '52000\n');
    writeFileSync(path.join(chip, 'temp1_label'), 'Package id 0\n');
    writeFileSync(path.join(chip, 'temp2_input'), '49500\n');
    symlinkSync(device, path.join(chip, 'device'));
    const bare = path.join(sys, 'devices/virtual/hwmon/hwmon4'); // no device link, no name
    mkdirSync(bare, { recursive: true });
    writeFileSync(path.join(bare, 'temp1_input'), '30000\n');
    mkdirSync(path.join(sys, 'class/hwmon'), { recursive: true });
    symlinkSync(chip, path.join(sys, 'class/hwmon/hwmon3'));
    symlinkSync(bare, path.join(sys, 'class/hwmon/hwmon4'));
    expect(await readHwmonTemps(sys)).toEqual([
      { chip: 'platform_coretemp_0', chipName: 'coretemp', sensor: 'temp1', label: 'Package id 0', celsius: 52 },
      { chip: 'platform_coretemp_0', chipName: 'coretemp', sensor: 'temp2', label: null, celsius: 49.5 },
      { chip: 'hwmon4', chipName: null, sensor: 'temp1', label: null, celsius: 30 },
    ]);
  });
});

describe('Docker API answers that are not right', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-dockerapi-'));
  const sock = path.join(dir, 'docker.sock');
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/events')) {
      res.statusCode = 500;
      return res.end('{"message":"no events for you"}');
    }
    if (req.url?.startsWith('/containers/json')) return res.end('this is not JSON');
    res.statusCode = 500;
    res.end('{"message":"daemon is sad"}');
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what failed, and keeps trying the event stream without crashing', async () => {
    await new Promise<void>((r) => server.listen(sock, r));
    const client = new DockerClient(`unix://${sock}`, 1000);
    await expect(client.get('/info')).rejects.toThrow(new DockerError('Docker API /info: HTTP 500 {"message":"daemon is sad"}'));
    await expect(client.get('/containers/json')).rejects.toThrow(/\/containers\/json: not JSON/);
    const logged: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (c, _e, cb) => (logged.push(String(c)), cb()) }));
    const cache = new ContainerCache(client, { log, labelFilter: 'a=b' });
    cache.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(cache.streaming).toBe(false);
    await expect(cache.list()).rejects.toThrow(/not JSON/);
    cache.stop();
    expect(logged.filter((l) => l.includes('Docker event stream lost'))).toHaveLength(1);
  });
});

describe('env helpers', () => {
  const schema = z.object({ N: integer(7, { min: 1, max: 10 }) });
  it.each([[undefined, 7], ['3', 3], [' 10 ', 10]])('integer %j → %d', (v, n) => expect(parseEnv(schema, { N: v }).N).toBe(n));
  it.each(['0', '11', '2.5', 'two'])('integer refuses %j', (v) => expect(() => parseEnv(schema, { N: v })).toThrow(ConfigError));
  it('reads an empty value as unset', () => expect(parseEnv(schema, { N: '' }).N).toBe(7));
});

describe('createLogger', () => {
  it('writes JSON lines, or pretty lines when asked', () => {
    expect(createLogger('t', 'info').level).toBe('info');
    const pretty = createLogger('t', 'debug', true);
    expect(pretty.level).toBe('debug');
    expect(pretty.isLevelEnabled('trace')).toBe(false);
  });
});
