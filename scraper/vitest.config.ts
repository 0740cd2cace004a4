import { workspaceConfig } from '../vitest.shared.js';

export default workspaceConfig({ exclude: ['src/main.ts'], globalSetup: ['test/global-setup.ts'] });
