/**
 * What the browser end of a terminal costs, in Chromium, side by side in one
 * run: the figures behind two choices of the terminal page and the relay.
 *
 *     node --import tsx bench/terminal-page.ts [--megabytes 10] [--record]
 *
 * 1. Chromium's WebSocket receiving output in 4 KiB frames (one per read of a
 *    pty) against 64 KiB frames (what the exporter and console gather), from a
 *    bare `ws` server on loopback.
 * 2. xterm.js (the console's version, scrollback and font size) drawing output fed one chunk
 *    per task, as socket messages arrive: its DOM renderer against its WebGL
 *    renderer, with 4 KiB and 64 KiB chunks. Where WebGL is software
 *    (SwiftShader, llvmpipe: no GPU), this is why the page keeps the DOM
 *    renderer there.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { browserMissing, launchBrowser } from '@vigil/console/testing';
import { WebSocketServer } from 'ws';
import { recordSection } from './lib.js';

const { values } = parseArgs({
  options: { megabytes: { type: 'string', default: '10' }, record: { type: 'boolean' }, help: { type: 'boolean' } },
});
if (values.help) {
  process.stdout.write(`usage: node --import tsx bench/terminal-page.ts [--megabytes 10] [--record]

Chromium (/usr/bin/chromium) receiving a WebSocket in 4 KiB and 64 KiB frames, and xterm.js
drawing output with its DOM and WebGL renderers; --record writes bench/RESULTS.md.
`);
  process.exit(0);
}
const missing = browserMissing();
if (missing) {
  process.stderr.write(`bench/terminal-page.ts needs Chromium: ${missing}\n`);
  process.exit(2);
}
const BYTES = Number(values.megabytes) * 1e6;
const SIZES = [4096, 65536] as const;
const log = (s: string) => process.stderr.write(`${s}\n`);

// The console's xterm.js, served as it is installed.
const require = createRequire(fileURLToPath(import.meta.resolve('@vigil/console/package.json')));
const files: Record<string, [string, string]> = {
  '/xterm.mjs': [require.resolve('@xterm/xterm/lib/xterm.mjs'), 'text/javascript'],
  '/addon-webgl.mjs': [require.resolve('@xterm/addon-webgl/lib/addon-webgl.mjs'), 'text/javascript'],
  '/xterm.css': [require.resolve('@xterm/xterm/css/xterm.css'), 'text/css'],
};
const PAGE = `<!doctype html><link rel="stylesheet" href="/xterm.css"><div id="t" style="width:1200px;height:700px"></div>
<script type="module">
import { Terminal } from '/xterm.mjs';
import { WebglAddon } from '/addon-webgl.mjs';
globalThis.makeTerminal = (renderer) => {
  document.getElementById('t').replaceChildren();
  const term = new Terminal({ scrollback: 5000, fontSize: 14, fontFamily: 'monospace' });
  term.open(document.getElementById('t'));
  if (renderer === 'webgl') term.loadAddon(new WebglAddon());
  globalThis.term?.dispose();
  globalThis.term = term;
  return document.querySelector('#t canvas') ? 'webgl' : 'dom';
};
globalThis.ready = true;
</script>`;

const server = http.createServer((req, res) => {
  const f = files[req.url ?? ''];
  if (f) return void res.writeHead(200, { 'content-type': f[1] }).end(readFileSync(f[0]));
  res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const frame = Buffer.alloc(Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size')), 97);
  let sent = 0;
  const pump = () => {
    while (sent < BYTES && ws.bufferedAmount < 4 << 20) {
      ws.send(frame);
      sent += frame.length;
    }
    if (sent < BYTES) setTimeout(pump, 1);
    else ws.send('end');
  };
  pump();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(base);
  await page.waitForFunction('globalThis.ready === true');
  const webglRenderer = (await page.evaluate(`(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
    return info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : gl ? 'unknown' : 'none';
  })()`)) as string;

  log('Chromium WebSocket receive…');
  const receive: Record<number, number> = {};
  for (const size of SIZES)
    receive[size] = (await page.evaluate(`new Promise((resolve) => {
      const ws = new WebSocket('${base.replace('http', 'ws')}/?size=${size}');
      ws.binaryType = 'arraybuffer';
      let bytes = 0, t0 = 0;
      ws.onmessage = (e) => {
        if (typeof e.data === 'string') { ws.close(); resolve(bytes / 1e6 / ((performance.now() - t0) / 1000)); return; }
        if (!t0) t0 = performance.now();
        bytes += e.data.byteLength;
      };
    })`)) as number;

  log('xterm.js drawing, one chunk per task…');
  const draw: Record<string, number> = {};
  const renderers: string[] = [];
  for (const renderer of ['dom', 'webgl'] as const) {
    const got = (await page.evaluate(`globalThis.makeTerminal('${renderer}')`)) as string;
    renderers.push(got);
    for (const size of SIZES)
      draw[`${renderer}-${size}`] = (await page.evaluate(`new Promise((resolve) => {
        const t = globalThis.term;
        const line = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefg\\r\\n';
        const chunk = new TextEncoder().encode(line.repeat(Math.floor(${size} / 80)));
        const n = Math.ceil(${BYTES} / chunk.length);
        const channel = new MessageChannel();
        let sent = 0, written = 0;
        const t0 = performance.now();
        channel.port2.onmessage = () => {
          t.write(chunk, () => { if (++written === n) resolve((n * chunk.length) / 1e6 / ((performance.now() - t0) / 1000)); });
          if (++sent < n) channel.port1.postMessage(0);
        };
        channel.port1.postMessage(0);
      })`)) as number;
  }

  const f = (v: number | undefined) => (v ?? 0).toFixed(1);
  const body = `Command: \`node --import tsx bench/terminal-page.ts --megabytes ${values.megabytes} --record\`; ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Debian's /usr/bin/chromium headless (no GPU; its WebGL is \`${webglRenderer}\`), ${values.megabytes} MB per figure. One page with the console's xterm.js (its scrollback and font size); output fed one chunk per task, as socket messages arrive.

| Chromium receiving a WebSocket (bare \`ws\` server, loopback) | MB/s |
|---|---:|
| 4 KiB frames (one per read of a pty) | ${f(receive[4096])} |
| 64 KiB frames (gathered) | **${f(receive[65536])}** |

| xterm.js drawing, MB/s | 4 KiB chunks | 64 KiB chunks |
|---|---:|---:|
| DOM renderer${renderers[0] === 'dom' ? '' : ` (got ${renderers[0]})`} | ${f(draw['dom-4096'])} | **${f(draw['dom-65536'])}** |
| WebGL renderer${renderers[1] === 'webgl' ? '' : ` (got ${renderers[1]})`} | ${f(draw['webgl-4096'])} | ${f(draw['webgl-65536'])} |

- frames: 64 KiB / 4 KiB **${((receive[65536] ?? 0) / (receive[4096] ?? 1)).toFixed(1)}×** on receipt; DOM renderer, 64 KiB / 4 KiB chunks **${((draw['dom-65536'] ?? 0) / (draw['dom-4096'] ?? 1)).toFixed(1)}×**
- renderers at 64 KiB chunks: DOM / WebGL **${((draw['dom-65536'] ?? 0) / (draw['webgl-65536'] ?? 1)).toFixed(1)}×** with this WebGL`;
  process.stdout.write(`${body}\n`);
  if (values.record) recordSection('Terminal page: Chromium and xterm.js at the browser end', body);
} finally {
  await browser.close();
  server.close();
  wss.close();
}
