// The V8 flags the exporter runs with, wherever it is started from (its bin's
// shebang, `node exporter/bin/vigil-exporter.js`, `vigil start`, systemd): no
// V8 worker threads, a 1 MiB young generation, gc() for src/heap.ts to run a
// full GC between scrapes, and bytecode only. Without worker threads V8's
// compilers would run on the main thread, and for this I/O-bound work they cost
// more CPU and memory than they save (measured side by side in bench/RESULTS.md).
export const NODE_FLAGS = [
  '--single-threaded',
  '--max-semi-space-size=1',
  '--optimize-for-size',
  '--expose-gc',
  '--no-opt',
  '--no-sparkplug',
];
