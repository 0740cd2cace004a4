import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  // The workspace packages export TypeScript: bundle them into the server build.
  // The database drivers and argon2 (native) stay in node_modules, loaded at run time.
  ssr: { noExternal: ['@vigil/db', '@vigil/core'], external: ['pg', '@electric-sql/pglite', '@node-rs/argon2'] },
});
