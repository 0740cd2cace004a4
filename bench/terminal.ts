/**
 * Terminals: keystroke round trip and output throughput through the whole
 * relay (a client socket as the browser's → the built console → the built
 * exporter → a pty), against a pty in this process, in the same run.
 *
 *     node --import tsx bench/terminal.ts [--rounds 400] [--megabytes 100] [--record]
 *
 * Round trip: send one byte, wait for its echo (the tty's own echo), then a
 * DEL and its "\b \b"; rounds alternate relay and direct. Throughput: `cat`
 * of a file of random text to the client, which acknowledges every byte as
 * xterm.js does once drawn; timed from the command to the end marker.
 * Uses TEST_DATABASE_URL's server when set (a throwaway database), else
 * embedded PGlite.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pty from 'node-pty';
import WebSocket from 'ws';
import { startRelay } from '../console/test/relay.js';
import { quantile, recordSection } from './lib.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '400' },
    megabytes: { type: 'string', default: '100' },
    record: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write('usage: node --import tsx bench/terminal.ts [--rounds 400] [--megabytes 100] [--record]\n');
  process.exit(0);
}
const ROUNDS = Number(values.rounds);
const MB = Number(values.megabytes);
const log = (s: string) => process.stderr.write(`${s}\n`);

/** A byte stream to a shell: send, and wait for output that ends with a marker. */
interface Shell {
  send(s: string): void;
  /** Resolves once the output received since the call contains `marker`; counts the bytes. */
  until(marker: string): Promise<number>;
  close(): void;
}

function watcher() {
  let tail = '';
  let bytes = 0;
  let waiting: { marker: string; resolve: (n: number) => void } | null = null;
  return {
    feed(d: Buffer) {
      bytes += d.length;
      if (!waiting) return;
      tail = (tail + d.toString('latin1')).slice(-256);
      if (tail.includes(waiting.marker)) {
        const w = waiting;
        waiting = null;
        w.resolve(bytes);
      }
    },
    until(marker: string) {
      tail = '';
      bytes = 0;
      return new Promise<number>((resolve) => {
        waiting = { marker, resolve };
      });
    },
  };
}

function directShell(): Promise<Shell> {
  const p = pty.spawn('/bin/sh', [], { cols: 80, rows: 24, cwd: tmpdir(), env: { PATH: process.env.PATH!, PS1: '$ ' }, encoding: null });
  const w = watcher();
  p.onData((d) => w.feed(d as unknown as Buffer));
  return Promise.resolve({ send: (s) => p.write(s), until: (m) => w.until(m), close: () => p.kill() });
}

async function relayShell(url: string, headers: Record<string, string>): Promise<Shell> {
  const ws = new WebSocket(`${url}?cols=80&rows=24`, { headers, perMessageDeflate: false });
  const w = watcher();
  let ready: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  ws.on('message', (data: Buffer, binary) => {
    if (!binary) {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'ready') ready();
      return;
    }
    w.feed(data);
    // What xterm.js does once it has drawn a chunk.
    ws.send(JSON.stringify({ type: 'ack', bytes: data.length }));
  });
  await isReady;
  return { send: (s) => ws.send(Buffer.from(s), { binary: true }), until: (m) => w.until(m), close: () => ws.close() };
}

const relay = await startRelay({ VIGIL_PTY_SHELL: '/bin/sh', VIGIL_PTY_ENV: 'PS1=$ ' });
const file = path.join(tmpdir(), `vigil-bench-${process.pid}.txt`);
try {
  const shells = { relay: await relayShell(relay.terminalUrl, relay.headers), direct: await directShell() };
  for (const s of Object.values(shells)) {
    const ready = s.until('ready-1');
    s.send('stty -ixon; echo ready-$((0+1))\r');
    await ready;
  }
  log(`round trips: ${ROUNDS} per path, alternating…`);
  const rtt = { relay: [] as number[], direct: [] as number[] };
  for (let i = 0; i < ROUNDS + 20; i++) {
    for (const name of i % 2 ? (['relay', 'direct'] as const) : (['direct', 'relay'] as const)) {
      const s = shells[name];
      for (const [key, echo] of [
        ['x', 'x'],
        ['\x7f', '\b \b'],
      ]) {
        const seen = s.until(echo!);
        const t0 = performance.now();
        s.send(key!);
        await seen;
        if (i >= 20) rtt[name].push(performance.now() - t0);
      }
    }
  }
  const med = { relay: quantile(rtt.relay, 0.5), direct: quantile(rtt.direct, 0.5) };
  const p90 = { relay: quantile(rtt.relay, 0.9), direct: quantile(rtt.direct, 0.9) };
  log(`  relay ${med.relay.toFixed(2)} ms, direct ${med.direct.toFixed(2)} ms`);

  log(`throughput: cat of ${MB} MB…`);
  // Printable text in lines, as logs are (random bytes would be escape sequences to a terminal).
  const line = randomBytes(60).toString('base64').slice(0, 79);
  const lines = Math.ceil((MB * 1e6) / 80);
  writeFileSync(file, `${line}\n`.repeat(lines));
  const sizeBytes = lines * 80;
  const cat = async (s: Shell) => {
    const done = s.until('END-2');
    const t0 = performance.now();
    s.send(`cat ${file}; echo END-$((1+1))\r`);
    const bytes = await done;
    return { seconds: (performance.now() - t0) / 1000, bytes };
  };
  const through = { relay: await cat(shells.relay), direct: await cat(shells.direct) };
  const rate = (r: { seconds: number }) => sizeBytes / 1e6 / r.seconds;
  log(`  relay ${rate(through.relay).toFixed(1)} MB/s, direct ${rate(through.direct).toFixed(1)} MB/s`);
  for (const s of Object.values(shells)) s.close();

  const body = `Command: \`node --import tsx bench/terminal.ts --rounds ${ROUNDS} --megabytes ${MB} --record\`${process.env.TEST_DATABASE_URL ? ' (TEST_DATABASE_URL set)' : ''}; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Linux ${os.release()}, Node ${process.version}. The relay is the built console and the built exporter (with its V8 flags), each its own process, on loopback; the client is a plain WebSocket that acknowledges every byte as xterm.js does once drawn; "direct" is node-pty in the benchmark's own process.

| keystroke round trip | median ms | p90 ms |
|---|---:|---:|
| client → console → exporter → pty → back | ${med.relay.toFixed(2)} | ${p90.relay.toFixed(2)} |
| pty in this process | ${med.direct.toFixed(2)} | ${p90.direct.toFixed(2)} |

- added by the relay: **${(med.relay - med.direct).toFixed(2)} ms** median; ratio relay / direct **${(med.relay / med.direct).toFixed(1)}×** (${ROUNDS} × 2 keystrokes each, alternating)

| \`cat\` of ${MB} MB (${(sizeBytes / 1e6).toFixed(0)} MB of 80-column lines) | seconds | MB/s |
|---|---:|---:|
| through the relay, to the client | ${through.relay.seconds.toFixed(2)} | **${rate(through.relay).toFixed(1)}** |
| pty in this process | ${through.direct.seconds.toFixed(2)} | ${rate(through.direct).toFixed(1)} |

- throughput ratio relay / direct: **${(rate(through.relay) / rate(through.direct)).toFixed(2)}**`;
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection('Terminal: keystroke round trip and throughput through the relay', body);
} finally {
  rmSync(file, { force: true });
  await relay.close();
}
