// Helpers the tests and benchmarks of more than one workspace share: free
// ports and throwaway HTTP servers, waiting on a condition, "needs a Debian
// program", promtool, and the captured host fixture trees.

export * from './bins.js';
export * from './build.js';
export * from './docker.js';
export * from './fixtures.js';
export * from './log.js';
export * from './promtool.js';
export * from './pty.js';
export * from './servers.js';
export * from './tls.js';
export * from './tools.js';
export * from './variables.js';
export * from './wait.js';
