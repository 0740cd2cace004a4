import { readFileSync } from 'node:fs';
import { opened, openPty } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, startRelay } from './relay.js';

// `yes` for 60 s through the whole relay (a client acknowledging as xterm.js
// does → the built console → the built exporter → a pty): both processes'
// memory stays bounded, and the shell still answers.

const SECONDS = 60;
const rss = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

describe('a flood through the relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  }, 60_000);
  afterAll(() => relay?.close());

  it(`keeps the exporter's and the console's memory bounded during ${SECONDS} s of yes, and stays responsive`, async () => {
    const c = opened(await openPty(relay.terminalUrl, relay.headers, { maxText: 1 << 16 }));
    await c.control('ready');
    let acked = 0;
    const ack = setInterval(() => {
      const n = c.bytes() - acked;
      if (n > 0) {
        c.send({ type: 'ack', bytes: n });
        acked += n;
      }
    }, 10);
    c.type('yes flood\r');
    await c.waitFor('flood\r\nflood\r\nflood');
    const samples: { exporter: number; console: number }[] = [];
    const start = { exporter: rss(relay.pids.exporter), console: rss(relay.pids.console) };
    for (let s = 0; s < SECONDS; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      samples.push({ exporter: rss(relay.pids.exporter), console: rss(relay.pids.console) });
    }
    const bytes = c.bytes();
    // Ctrl-C, then the shell answers through the same relay, behind the flood
    // still in flight (the kernel's socket buffers hold megabytes of it), which
    // the client goes on acknowledging as a page does.
    c.type('\x03');
    c.type('echo alive-$((40+2))\r');
    await c.waitFor('alive-42');
    clearInterval(ack);
    const peak = { exporter: Math.max(...samples.map((x) => x.exporter)), console: Math.max(...samples.map((x) => x.console)) };
    const late = samples.slice(SECONDS / 2);
    const lateGrowth = {
      exporter: Math.max(...late.map((x) => x.exporter)) - samples[SECONDS / 2 - 1]!.exporter,
      console: Math.max(...late.map((x) => x.console)) - samples[SECONDS / 2 - 1]!.console,
    };
    process.stdout.write(
      `yes for ${SECONDS} s through the relay: ${mib(bytes)} MiB relayed (${mib(bytes / SECONDS)} MiB/s); ` +
        `exporter RSS ${mib(start.exporter)} → peak ${mib(peak.exporter)} MiB, console RSS ${mib(start.console)} → peak ${mib(peak.console)} MiB\n`,
    );
    expect(bytes).toBeGreaterThan(SECONDS * 1_000_000);
    // Bounded: no process holds the flood. Without flow control, the shell's output (GBs here) would be queued in memory.
    expect(peak.exporter - start.exporter).toBeLessThan(64 * 2 ** 20);
    expect(peak.console - start.console).toBeLessThan(64 * 2 ** 20);
    // …and not creeping up in the second half.
    expect(lateGrowth.exporter).toBeLessThan(16 * 2 ** 20);
    expect(lateGrowth.console).toBeLessThan(16 * 2 ** 20);
    c.ws.close();
  });
});
