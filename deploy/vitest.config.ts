import { workspaceConfig } from '../vitest.shared.js';

// The image, compose and install tests build and start real containers
// (minutes, not seconds), and `npm run release` rebuilds the programs that the
// release test reads: one file at a time.
const config = workspaceConfig({ exclude: ['src/main.ts'], testTimeout: 600_000 });
export default { ...config, test: { ...config.test, fileParallelism: false } };
