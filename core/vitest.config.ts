import { workspaceConfig } from '../vitest.shared.js';

// The test helpers are measured where they are used, not here.
export default workspaceConfig({ exclude: ['src/testing/**'] });
