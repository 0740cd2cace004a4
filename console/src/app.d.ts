// See https://svelte.dev/docs/kit/types#app.d.ts
import type { PendingSignIn, Principal } from '$lib/server/auth';

declare global {
  namespace App {
    interface Locals {
      /** Who the request acts as (session or API key), null when signed out; set by hooks.server.ts. */
      principal: Principal | null;
      /** A session half signed in (its second factor to give, or to set up); principal is null then. */
      pending: PendingSignIn | null;
    }
    interface Error {
      message: string;
      /** An id to find the full error in the console's log. */
      errorId?: string;
    }
  }
}
