// See https://svelte.dev/docs/kit/types#app.d.ts
import type { Principal } from '$lib/server/auth';

declare global {
  namespace App {
    interface Locals {
      /** Who the request acts as (session or API key), null when signed out; set by hooks.server.ts. */
      principal: Principal | null;
    }
    interface Error {
      message: string;
      /** An id to find the full error in the console's log. */
      errorId?: string;
    }
  }
}
