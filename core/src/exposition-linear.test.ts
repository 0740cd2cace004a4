import { describe, expect, it } from 'vitest';
import { parseExposition } from './exposition.js';

// Untrusted bodies are parsed in time proportional to their size, whatever
// their shape: each adversarial 1 MB body is compared with a normal 1 MB body
// parsed in the same run (a ratio, since this machine's speed varies), never
// with an absolute time. A backtracking parser takes seconds to minutes here
// (a run of digits then a bad character was quadratic: 100 KB took 22 s).
const MB = 1 << 20;

/** A normal body: node_exporter-like series, about 1 MB. */
function normalBody(): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < MB; i++) {
    const l = `node_cpu_seconds_total{cpu="${i % 64}",mode="user"} ${i * 1.5}\nnode_network_receive_bytes_total{device="eth${i}"} ${i}e3\n`;
    lines.push(l);
    size += l.length;
  }
  return `# HELP node_cpu_seconds_total Seconds.\n# TYPE node_cpu_seconds_total counter\n${lines.join('')}`;
}

/** Best of three, in milliseconds: the least disturbed run. */
function timeParse(body: string): number {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    try {
      parseExposition(body);
    } catch {
      // malformed on purpose: the time to say so is what counts
    }
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const ADVERSARIAL: [string, string][] = [
  ['a long run of digits, then a bad character', `x ${'1'.repeat(MB)}x\n`],
  ['digits with a dot and a bad exponent', `x 1.${'1'.repeat(MB)}e\n`],
  ['one huge label value', `x{a="${'a'.repeat(MB)}"} 1\n`],
  ['a label value of escapes', `x{a="${'\\n\\"'.repeat(MB / 4)}"} 1\n`],
  ['an unterminated label value', `x{a="${'a'.repeat(MB)}\n`],
  ['blanks between name and value', `x${' '.repeat(MB)}1\n`],
  ['blanks, then no value', `x${' '.repeat(MB)}\n`],
  ['a huge metric name', `${'a'.repeat(MB)} 1\n`],
  ['a TYPE line of blanks', `# TYPE x${' '.repeat(MB)}gaugex\n`],
  ['a long HELP comment', `# HELP x ${'h'.repeat(MB)}\nx 1\n`],
  ['many labels', `x{${Array.from({ length: MB / 11 }, (_, i) => `l${i}="v"`).join(',')}} 1\n`],
  ['many short lines of digits then garbage', `x ${'1'.repeat(64)}!\n`.repeat(MB / 68)],
];

describe('parsing time is linear in the body, for any shape', () => {
  const normal = normalBody();
  it.each(ADVERSARIAL)('%s (1 MB) parses within 10x a normal 1 MB body', (_, body) => {
    expect(body.length).toBeGreaterThanOrEqual(MB * 0.9);
    const base = Math.max(timeParse(normal), 1);
    const t = timeParse(body);
    expect(t / base).toBeLessThan(10);
  });
});
