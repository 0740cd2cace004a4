/**
 * Terminals: keystroke round trip and output throughput through the whole
 * relay (the browser's socket → the built console → the built exporter → a
 * pty), against a pty in this process, in the same run. The browser end is
 * measured twice: a plain WebSocket client that acknowledges bytes as they
 * arrive (the relay alone), and the console's terminal page in Debian's
 * Chromium, where xterm.js parses every byte and acknowledges it only then
 * (what a person gets).
 *
 *     node --import tsx bench/terminal.ts [--rounds 400] [--megabytes 100] [--no-browser] [--record]
 *
 * Round trip: send one byte, wait for its echo (the tty's own echo), then a
 * DEL and its "\b \b"; rounds rotate the paths. In the page the keystroke
 * goes in through xterm.js (`term.input`, as typing does) and the echo counts
 * once xterm.js has parsed it (the cursor moved); timing is the page's own
 * clock. Throughput: `cat` of a file of random text; timed from the command
 * to the end marker (in the page: to the marker in xterm.js's buffer).
 * Uses TEST_DATABASE_URL's server when set (a throwaway database), else
 * embedded PGlite.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { browserMissing, launchBrowser, type Relay, startRelay } from '@vigil/console/testing';
import pty from 'node-pty';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { cpuSeconds, quantile, recordSection } from './lib.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '400' },
    megabytes: { type: 'string', default: '100' },
    'no-browser': { type: 'boolean' },
    record: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(`usage: node --import tsx bench/terminal.ts [--rounds 400] [--megabytes 100] [--no-browser] [--record]

Keystroke round trip and cat throughput through console → exporter → pty, from a plain
WebSocket client and from the terminal page in Chromium (/usr/bin/chromium), against a
pty in this process. --no-browser leaves the page out; --record writes bench/RESULTS.md.
`);
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

/** The terminal in the browser's page: what a person's keystrokes and output go through. */
interface PageShell {
  /** One round: a keystroke and its echo, then DEL and its erasure; milliseconds each, on the page's clock. */
  roundTrip(): Promise<[number, number]>;
  /** Types `command` and resolves once `marker` is in xterm.js's buffer; seconds, on the page's clock. */
  run(command: string, marker: string): Promise<number>;
  close(): Promise<void>;
}

interface PageTerminal {
  input(data: string, wasUserInput?: boolean): void;
  onWriteParsed(cb: () => void): { dispose(): void };
  buffer: {
    active: {
      cursorX: number;
      cursorY: number;
      baseY: number;
      getLine(i: number): { translateToString(trim: boolean): string } | undefined;
    };
  };
}

/** Signs the relay's developer in to a fresh page and opens the host's terminal page. */
async function pageShell(browser: Browser, relay: Relay): Promise<PageShell> {
  const origin = relay.headers.origin!;
  const token = relay.headers.cookie!.slice(relay.headers.cookie!.indexOf('=') + 1);
  const hostId = relay.terminalUrl.slice(relay.terminalUrl.lastIndexOf('/') + 1);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([{ name: 'vigil_session', value: token, url: origin }]);
  const page: Page = await context.newPage();
  await page.goto(`${origin}/hosts/${hostId}/terminal`);
  await page.locator('[data-terminal-state="connected"]').waitFor({ timeout: 20_000 });
  await page.waitForFunction(() => 'vigilTerminal' in globalThis);
  return {
    roundTrip: () =>
      page.evaluate(async () => {
        // No named inner functions here: the bundler would wrap them in a helper the page lacks.
        const t = (globalThis as unknown as { vigilTerminal: PageTerminal }).vigilTerminal;
        const x0 = t.buffer.active.cursorX;
        const times: number[] = [];
        for (const [data, x] of [
          ['x', x0 + 1],
          ['\x7f', x0],
        ] as const) {
          times.push(
            await new Promise<number>((resolve) => {
              const t0 = performance.now();
              const sub = t.onWriteParsed(() => {
                if (t.buffer.active.cursorX !== x) return;
                sub.dispose();
                resolve(performance.now() - t0);
              });
              t.input(data, true);
            }),
          );
        }
        return times as [number, number];
      }),
    run: (command, marker) =>
      page.evaluate(
        ([command, marker]) => {
          const t = (globalThis as unknown as { vigilTerminal: PageTerminal }).vigilTerminal;
          return new Promise<number>((resolve) => {
            const t0 = performance.now();
            // The marker is the line above the prompt once the command is done.
            const sub = t.onWriteParsed(() => {
              const b = t.buffer.active;
              const row = b.baseY + b.cursorY;
              for (const i of [row - 1, row])
                if (b.getLine(i)?.translateToString(true).includes(marker)) {
                  sub.dispose();
                  resolve((performance.now() - t0) / 1000);
                  return;
                }
            });
            t.input(command, true);
          });
        },
        [command, marker] as const,
      ),
    close: () => context.close(),
  };
}

/** The browser's processes: this process's descendants whose command is Chromium's (from /proc/<pid>/stat). */
function browserPids(): number[] {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...comm].filter(([pid, c]) => c.startsWith('chrom') && mine(pid)).map(([pid]) => pid);
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
function machine(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

/** CPU seconds used by the exporter, the console and the browser while `work` runs, and how busy the machine was. */
async function withCpu<T>(
  relay: Relay,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: { exporter: number; console: number; browser: number; busy: number } }> {
  const sum = (pids: number[]) =>
    pids.reduce((a, p) => {
      try {
        return a + cpuSeconds(p);
      } catch {
        return a;
      }
    }, 0);
  const browser = browserPids();
  const m0 = machine();
  const before = { exporter: cpuSeconds(relay.pids.exporter), console: cpuSeconds(relay.pids.console), browser: sum(browser) };
  const result = await work();
  const m1 = machine();
  return {
    result,
    cpu: {
      exporter: cpuSeconds(relay.pids.exporter) - before.exporter,
      console: cpuSeconds(relay.pids.console) - before.console,
      browser: sum(browser) - before.browser,
      busy: (m1.busy - m0.busy) / (m1.total - m0.total),
    },
  };
}

const missing = values['no-browser'] ? 'left out (--no-browser)' : browserMissing();
const relay = await startRelay({ VIGIL_PTY_SHELL: '/bin/sh', VIGIL_PTY_ENV: 'PS1=$ ' });
const file = path.join(tmpdir(), `vigil-bench-${process.pid}.txt`);
let browser: Browser | null = null;
try {
  const shells = { relay: await relayShell(relay.terminalUrl, relay.headers), direct: await directShell() };
  for (const s of Object.values(shells)) {
    const ready = s.until('ready-1');
    s.send('stty -ixon; echo ready-$((0+1))\r');
    await ready;
  }
  let page: PageShell | null = null;
  if (!missing) {
    browser = await launchBrowser();
    page = await pageShell(browser, relay);
    await page.run('stty -ixon; echo ready-$((0+1))\r', 'ready-1');
  }
  type Path = 'relay' | 'direct' | 'page';
  const paths: Path[] = page ? ['direct', 'relay', 'page'] : ['direct', 'relay'];
  log(`round trips: ${ROUNDS} per path (${paths.join(', ')}), rotating…`);
  const rtt: Record<Path, number[]> = { relay: [], direct: [], page: [] };
  for (let i = 0; i < ROUNDS + 20; i++) {
    // Each round starts with another path, so no path always follows the same one.
    for (let k = 0; k < paths.length; k++) {
      const name = paths[(i + k) % paths.length]!;
      const times: number[] = [];
      if (name === 'page') times.push(...(await page!.roundTrip()));
      else {
        const s = shells[name];
        for (const [key, echo] of [
          ['x', 'x'],
          ['\x7f', '\b \b'],
        ]) {
          const seen = s.until(echo!);
          const t0 = performance.now();
          s.send(key!);
          await seen;
          times.push(performance.now() - t0);
        }
      }
      if (i >= 20) rtt[name].push(...times);
    }
  }
  const med = (p: Path) => quantile(rtt[p], 0.5);
  const p90 = (p: Path) => quantile(rtt[p], 0.9);
  log(`  ${paths.map((p) => `${p} ${med(p).toFixed(2)} ms`).join(', ')}`);

  log(`throughput: cat of ${MB} MB…`);
  // Printable text in lines, as logs are (random bytes would be escape sequences to a terminal).
  const line = randomBytes(60).toString('base64').slice(0, 79);
  const lines = Math.ceil((MB * 1e6) / 80);
  writeFileSync(file, `${line}\n`.repeat(lines));
  const sizeBytes = lines * 80;
  const command = `cat ${file}; echo END-$((1+1))\r`;
  const cat = async (s: Shell) => {
    const done = s.until('END-2');
    const t0 = performance.now();
    s.send(command);
    await done;
    return (performance.now() - t0) / 1000;
  };
  const relayed = await withCpu(relay, () => cat(shells.relay));
  const seconds: Partial<Record<Path, number>> = { relay: relayed.result, direct: await cat(shells.direct) };
  const cpu: Partial<Record<Path, typeof relayed.cpu>> = { relay: relayed.cpu };
  if (page) {
    const drawn = await withCpu(relay, () => page!.run(command, 'END-2'));
    seconds.page = drawn.result;
    cpu.page = drawn.cpu;
  }
  const rate = (p: Path) => sizeBytes / 1e6 / seconds[p]!;
  log(`  ${paths.map((p) => `${p} ${rate(p).toFixed(1)} MB/s`).join(', ')}`);
  for (const s of Object.values(shells)) s.close();
  await page?.close();

  const pageRow = (cells: string) => (page ? `${cells}\n` : '');
  const body = `Command: \`node --import tsx bench/terminal.ts --rounds ${ROUNDS} --megabytes ${MB}${page ? '' : ' --no-browser'} --record\`${process.env.TEST_DATABASE_URL ? ' (TEST_DATABASE_URL set)' : ''}; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Linux ${os.release()}, Node ${process.version}. The relay is the built console and the built exporter (with its V8 flags), each its own process, on loopback. "Socket client" is a plain WebSocket on the console's \`/ws/terminal\` that acknowledges every byte on arrival (the relay alone); "browser page" is the console's terminal page in headless Chromium (${page ? "Debian's /usr/bin/chromium, no GPU" : missing}), where the keystroke goes in through xterm.js and counts once xterm.js has parsed its echo, and xterm.js acknowledges output only after parsing it; "direct" is node-pty in the benchmark's own process.

| keystroke round trip | median ms | p90 ms |
|---|---:|---:|
${pageRow(`| browser page (xterm.js) → console → exporter → pty → back | ${med('page').toFixed(2)} | ${p90('page').toFixed(2)} |`)}| socket client → console → exporter → pty → back | ${med('relay').toFixed(2)} | ${p90('relay').toFixed(2)} |
| pty in this process | ${med('direct').toFixed(2)} | ${p90('direct').toFixed(2)} |

${page ? `- added by the whole path from the page: **${(med('page') - med('direct')).toFixed(2)} ms** median; ratio page / direct **${(med('page') / med('direct')).toFixed(1)}×**\n` : ''}- added by the relay (socket client): **${(med('relay') - med('direct')).toFixed(2)} ms** median; ratio relay / direct **${(med('relay') / med('direct')).toFixed(1)}×** (${ROUNDS} × 2 keystrokes per path, rotating)

| \`cat\` of ${MB} MB (${(sizeBytes / 1e6).toFixed(0)} MB of 80-column lines) | seconds | MB/s |
|---|---:|---:|
${pageRow(`| through the relay, into xterm.js in the browser page | ${seconds.page?.toFixed(2)} | **${page ? rate('page').toFixed(1) : ''}** |`)}| through the relay, to the socket client | ${seconds.relay!.toFixed(2)} | **${rate('relay').toFixed(1)}** |
| pty in this process | ${seconds.direct!.toFixed(2)} | ${rate('direct').toFixed(1)} |

- throughput ratio relay / direct: **${(rate('relay') / rate('direct')).toFixed(2)}**${page ? `; browser page / direct: **${(rate('page') / rate('direct')).toFixed(2)}**` : ''}

| CPU seconds during the \`cat\` | exporter | console | browser (all its processes) | machine busy (${os.cpus().length} cores) |
|---|---:|---:|---:|---:|
${(['page', 'relay'] as const)
  .filter((p) => cpu[p])
  .map(
    (p) =>
      `| ${p === 'page' ? 'into the browser page' : 'to the socket client'} | ${cpu[p]!.exporter.toFixed(2)} | ${cpu[p]!.console.toFixed(2)} | ${p === 'page' ? cpu[p]!.browser.toFixed(2) : '–'} | ${(100 * cpu[p]!.busy).toFixed(0)}% |`,
  )
  .join('\n')}

${page ? `- per 100 MB drawn in the page: the relay (exporter + console) used **${(((cpu.page!.exporter + cpu.page!.console) * 100) / (sizeBytes / 1e6)).toFixed(1)} CPU s**, the browser **${((cpu.page!.browser * 100) / (sizeBytes / 1e6)).toFixed(1)} CPU s**: with the machine ${(100 * cpu.page!.busy).toFixed(0)}% busy, the page's rate here is bound by the CPU the browser, the relay and the shell share, not by the relay's pacing.` : ''}`;
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection('Terminal: keystroke round trip and throughput through the relay', body);
} finally {
  rmSync(file, { force: true });
  await browser?.close();
  await relay.close();
}
