import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  // The workspace packages export TypeScript: bundle them into the server build.
  // The database drivers, argon2 (native) and undici (which requires node:sqlite
  // lazily, where Node has it) stay in node_modules, loaded at run time.
  ssr: {
    noExternal: ['@vigil/db', '@vigil/migrations', '@vigil/core'],
    external: ['pg', '@electric-sql/pglite', '@node-rs/argon2', 'undici'],
  },
});
