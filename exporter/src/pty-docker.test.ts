import { randomBytes } from 'node:crypto';
import { generateTicketKeys, importTicketPrivateKey, mintTicket, type TicketGrant, type TicketKey } from '@vigil/core/pty';
import { captureLog, opened, openPty, type Refusal } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_HOST, docker, dockerMissing, IMAGE } from '../test/docker.js';
import { loadExporterConfig } from './config.js';
import { LogDemuxer } from './docker/log-demuxer.js';
import { type RunningExporter, startExporter } from './server.js';

describe('LogDemuxer', () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(payload.length, 4);
    return Buffer.concat([h, payload]);
  };
  it('splits stdout and stderr frames however the chunks cut them', () => {
    const whole = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'out two\n')]);
    for (const cut of [1, 3, 7, 8, 9, 13, whole.length]) {
      const d = new LogDemuxer();
      const got: string[] = [];
      for (let i = 0; i < whole.length; i += cut) d.push(whole.subarray(i, i + cut), (s, b) => got.push(`${s}:${b}`));
      const joined = { 1: '', 2: '' } as Record<number, string>;
      for (const g of got) joined[Number(g[0])] += g.slice(2);
      expect(joined).toEqual({ 1: 'out one\nout two\n', 2: 'err\n' });
    }
  });
});

const missing = dockerMissing();

describe.skipIf(missing)(`container shells and logs through the PTY socket${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const run = randomBytes(4).toString('hex');
  const names = { app: `vp-${run}-app`, stopped: `vp-${run}-stopped`, other: `vp-${run}-other` };
  let exporter: RunningExporter;
  let signer: TicketKey;
  let ws: string;
  const open = async (grant: TicketGrant) =>
    openPty(ws, { authorization: `Bearer ${await mintTicket(signer, { audience: 'box', subject: 'alice', grant })}` });

  beforeAll(async () => {
    const common = ['run', '-d', '--network', 'none', '--label', `com.vigil.pty=${run}`];
    docker(
      ...common,
      '--name',
      names.app,
      IMAGE,
      'sh',
      '-c',
      'echo out-line; echo err-line >&2; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done',
    );
    docker(...common, '--name', names.stopped, IMAGE, 'true');
    docker('run', '-d', '--network', 'none', '--name', names.other, IMAGE, 'sleep', '300');
    const keys = await generateTicketKeys();
    signer = await importTicketPrivateKey(keys.privateKeyPem);
    exporter = await startExporter(
      loadExporterConfig({
        VIGIL_EXPORTER_LISTEN: '127.0.0.1:0',
        DOCKER_HOST,
        VIGIL_CONTAINER_LABEL: `com.vigil.pty=${run}`,
        VIGIL_CONSOLE_PUBLIC_KEY: keys.publicKeyPem,
        VIGIL_EXPORTER_ID: 'box',
        VIGIL_PTY_ALLOW_ROOT: '1',
      }),
      captureLog().log,
    );
    ws = `${exporter.url.replace('http', 'ws')}/pty`;
  }, 60_000);
  afterAll(async () => {
    await exporter?.close();
    for (const n of Object.values(names)) docker('rm', '-f', n);
  });

  it('opens a shell in a container with a TTY: echo, resize, exit code', async () => {
    const c = opened(await open({ kind: 'exec', container: names.app, cols: 90, rows: 20 }));
    await c.control('ready');
    c.type('echo in-container-$((2+3))\r');
    await c.waitFor('in-container-5');
    c.send({ type: 'resize', cols: 111, rows: 33 });
    // the resize is a separate API call: ask until the TTY shows it
    for (let i = 0; !c.text().includes('33 111'); i++) {
      const at = c.text().length;
      c.type('busybox stty size\r');
      await c.waitFor(/\d+ \d+\r\n/, at);
      if (i > 50) throw new Error(`the TTY was not resized: ${c.text().slice(-200)}`);
    }
    c.type('exit 4\r');
    expect(await c.control('exit')).toEqual({ type: 'exit', code: 4, signal: null });
  });

  it("follows a container's logs: the tail, then new lines, stderr in red, read-only", async () => {
    const c = opened(await open({ kind: 'logs', container: names.app, tail: 1000 }));
    await c.control('ready');
    await c.waitFor('out-line\r\n');
    await c.waitFor('\x1b[31merr-line\r\n\x1b[0m');
    const seen = Number(/tick-(\d+)/.exec(c.text())?.[1] ?? 0);
    await c.waitFor(`tick-${seen + 3}\r\n`);
    c.type('echo typed\r');
    await c.waitFor(`tick-${seen + 6}`);
    expect(c.text()).not.toContain('typed');
    c.ws.close();
  });

  it('refuses a container it does not report, and a shell in a stopped one', async () => {
    const other = (await open({ kind: 'exec', container: names.other })) as Refusal;
    expect(other.status).toBe(502);
    expect(JSON.parse(other.body).error.message).toBe(`no container named ${names.other} on this host`);
    const stopped = (await open({ kind: 'exec', container: names.stopped })) as Refusal;
    expect(stopped.status).toBe(502);
    expect(JSON.parse(stopped.body).error.message).toMatch(/is exited, not running/);
  });
});
