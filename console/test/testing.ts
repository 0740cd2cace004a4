// What the console's tests share with the benchmarks: a headless Chromium
// (Debian's), and a relay of the built console and exporter with a terminal
// ticket key pair. Reached as `@vigil/console/testing`, never by a relative
// path into this workspace.
export * from './browser.js';
export * from './relay.js';
