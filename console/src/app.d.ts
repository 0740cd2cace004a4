// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    interface Error {
      message: string;
      /** An id to find the full error in the console's log. */
      errorId?: string;
    }
  }
}

export {};
