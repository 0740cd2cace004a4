import { workspaceConfig } from '../vitest.shared.js';

// The image and compose tests build and start real containers: minutes, not seconds.
export default workspaceConfig({ exclude: ['src/main.ts'], testTimeout: 600_000 });
