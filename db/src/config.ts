import * as z from 'zod/mini';
import { parseDatabaseUrl } from './db.js';

/**
 * The `DATABASE_URL` variable for a program's environment schema: unset, or a
 * URL {@link parseDatabaseUrl} accepts. One definition for every program that
 * reads it.
 */
export const DATABASE_URL = z.optional(z.string()).check(
  z.superRefine((v, ctx) => {
    try {
      parseDatabaseUrl(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message.replace(/^DATABASE_URL /, '') });
    }
  }),
);
