import { sveltekit } from '@sveltejs/kit/vite';
import { workspaceConfig } from '../vitest.shared.js';

// Unit tests of the console's server and library code (with SvelteKit's plugin,
// so $lib and $env resolve); the pages themselves, and the live clock that only
// runs in a browser, are tested in Chromium against the built app (test/e2e.test.ts).
export default workspaceConfig({
  plugins: [sveltekit()],
  // server.ts runs as the console's process, exercised by the browser test.
  exclude: ['src/**/*.svelte', 'src/app.d.ts', 'src/lib/clock.svelte.ts', 'src/server.ts'],
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 120_000,
});
