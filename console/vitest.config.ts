import { workspaceConfig } from '../vitest.shared.js';

// Unit tests of the console's server and library code; the pages themselves are
// tested in a real browser against the built app (test/e2e.test.ts).
export default workspaceConfig({ exclude: ['src/**/*.svelte', 'src/app.d.ts'], testTimeout: 120_000 });
