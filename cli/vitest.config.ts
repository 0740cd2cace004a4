import { workspaceConfig } from '../vitest.shared.js';

// `vigil start` runs the built programs: build what changed first.
export default workspaceConfig({ exclude: ['src/main.ts'], globalSetup: ['test/global-setup.ts'], testTimeout: 60_000 });
