import { describe, expect, it } from 'vitest';
import { parseExposition } from './exposition.js';

// Untrusted bodies are parsed in time proportional to their size, whatever
// their shape. Each adversarial shape is parsed at two sizes, n and 16n, in the
// same run, interleaved: a linear parser takes about 16x as long for the larger,
// a quadratic one 256x. The threshold (48x) sits between the two with room both
// ways (3x above linear for GC, coverage and a loaded machine; 5x below
// quadratic), and no body is compared with another shape, so a shape that is merely
// slower per byte than a normal body (many short labels) cannot fail it. A
// backtracking parser takes seconds to minutes here (a run of digits then a
// bad character was quadratic: 100 KB took 22 s).
const KB = 1 << 10;

/**
 * Best of five parses of each body, interleaved so that both see the same load,
 * after two unmeasured parses of the small one (the compiler's warm-up); milliseconds.
 */
function timeParses(small: string, large: string): [number, number] {
  const best = [Infinity, Infinity] as [number, number];
  for (let k = -2; k < 5; k++) {
    for (const [i, body] of (k < 0 ? [small] : [small, large]).entries()) {
      const t0 = performance.now();
      try {
        parseExposition(body);
      } catch {
        // malformed on purpose: the time to say so is what counts
      }
      if (k >= 0) best[i] = Math.min(best[i]!, performance.now() - t0);
    }
  }
  return best;
}

/** Shapes, each as a body of about `n` bytes. */
const ADVERSARIAL: [string, (n: number) => string][] = [
  ['a long run of digits, then a bad character', (n) => `x ${'1'.repeat(n)}x\n`],
  ['digits with a dot and a bad exponent', (n) => `x 1.${'1'.repeat(n)}e\n`],
  ['one huge label value', (n) => `x{a="${'a'.repeat(n)}"} 1\n`],
  ['a label value of escapes', (n) => `x{a="${'\\n\\"'.repeat(n / 4)}"} 1\n`],
  ['an unterminated label value', (n) => `x{a="${'a'.repeat(n)}\n`],
  ['blanks between name and value', (n) => `x${' '.repeat(n)}1\n`],
  ['blanks, then no value', (n) => `x${' '.repeat(n)}\n`],
  ['a huge metric name', (n) => `${'a'.repeat(n)} 1\n`],
  ['a TYPE line of blanks', (n) => `# TYPE x${' '.repeat(n)}gaugex\n`],
  ['a long HELP comment', (n) => `# HELP x ${'h'.repeat(n)}\nx 1\n`],
  ['many labels', (n) => `x{${Array.from({ length: n / 11 }, (_, i) => `l${i}="v"`).join(',')}} 1\n`],
  ['many short lines of digits then garbage', (n) => `x ${'1'.repeat(64)}!\n`.repeat(n / 68)],
  [
    'a normal body',
    (n) => {
      const lines = ['# HELP node_cpu_seconds_total Seconds.\n# TYPE node_cpu_seconds_total counter\n'];
      for (let i = 0, size = 0; size < n; i++) {
        const l = `node_cpu_seconds_total{cpu="${i % 64}",mode="user"} ${i * 1.5}\nnode_network_receive_bytes_total{device="eth${i}"} ${i}e3\n`;
        lines.push(l);
        size += l.length;
      }
      return lines.join('');
    },
  ],
];

describe('parsing time is linear in the body, for any shape', () => {
  it.each(ADVERSARIAL)('%s: 16x the bytes take under 48x the time (64 KB, 1 MB)', (_, make) => {
    const small = make(64 * KB);
    const large = make(1024 * KB);
    expect(large.length).toBeGreaterThanOrEqual(15 * small.length);
    const [a, b] = timeParses(small, large);
    // A floor of 2 ms under the small body's time: a shape parsed in microseconds
    // is at the timer's and the cache's mercy, while a quadratic parse of 1 MB
    // takes seconds, far past 48 x 2 ms.
    expect(b / Math.max(a, 2)).toBeLessThan(48);
  });
});
