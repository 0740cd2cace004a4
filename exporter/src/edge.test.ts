import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@vigil/core/log';
import { captureLog, until } from '@vigil/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { readHwmonTemps } from './collectors/hwmon.js';
import { DockerClient, DockerError } from './docker/client.js';
import { ContainerCache } from './docker/container-cache.js';

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
    const { log, lines: logged } = captureLog('warn');
    const cache = new ContainerCache(client, { log, labelFilter: 'a=b' });
    cache.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(cache.streaming).toBe(false);
    await expect(cache.list()).rejects.toThrow(/not JSON/);
    cache.stop();
    expect(logged.filter((l) => l.includes('Docker event stream lost'))).toHaveLength(1);
  });
});

describe('the container list after a failed refresh', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-dockercache-'));
  const sock = path.join(dir, 'docker.sock');
  const entry = (id: string, name: string) => ({ Id: id.padEnd(64, '0'), Names: [`/${name}`], State: 'running' });
  const inspect = (id: string, name: string) => ({
    Id: id,
    Name: `/${name}`,
    Config: { Image: 'busybox' },
    State: { Status: 'running', Pid: 0 },
  });
  let list: ReturnType<typeof entry>[] = [entry('a', 'old')];
  let failList = false;
  let events: http.ServerResponse | null = null;
  let streamOpen: () => void = () => {};
  const opened = new Promise<void>((r) => (streamOpen = r));
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/events')) {
      events = res;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('');
      streamOpen();
      return;
    }
    if (url.startsWith('/containers/json')) {
      if (failList) {
        res.statusCode = 500;
        return res.end('{"message":"busy"}');
      }
      return res.end(JSON.stringify(list));
    }
    const m = /^\/containers\/(\w+)\/json$/.exec(url);
    const found = m && list.find((e) => e.Id === m[1]);
    if (found) return res.end(JSON.stringify(inspect(found.Id, found.Names[0]!.slice(1))));
    res.statusCode = 404;
    res.end('{"message":"no such container"}');
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks Docker again on the next scrape instead of serving the old list until the next event', async () => {
    await new Promise<void>((r) => server.listen(sock, r));
    const cache = new ContainerCache(new DockerClient(`unix://${sock}`, 1000), { log: createLogger('t', 'silent') });
    cache.start();
    await opened;
    await until('the event stream is followed', 5, async () => cache.streaming);
    expect((await cache.list()).map((c) => c.name)).toEqual(['old']);
    // A container starts: Docker says so on the event stream, but the next list request fails.
    list = [entry('b', 'new')];
    failList = true;
    const listed = new Promise<void>((r) => server.once('request', () => r()));
    events!.write(`${JSON.stringify({ Type: 'container', Action: 'start', id: list[0]!.Id })}\n`);
    await until('the event is seen', 5, async () => {
      try {
        await cache.list();
        return false;
      } catch {
        return true;
      }
    });
    await listed;
    // Docker answers again: the list is refreshed, not the stale one served.
    failList = false;
    expect((await cache.list()).map((c) => c.name)).toEqual(['new']);
    cache.stop();
  });
});
