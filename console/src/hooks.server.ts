import { randomUUID } from 'node:crypto';
import type { HandleServerError } from '@sveltejs/kit';

/** Unexpected errors: logged with an id, shown to the user as that id and a safe message only. */
export const handleError: HandleServerError = ({ error, status, message }) => {
  if (status === 404) return { message };
  const errorId = randomUUID();
  console.error(`[${errorId}]`, error);
  const text = (error as Error)?.message ?? '';
  const dbDown = /ECONNREFUSED|Connection terminated|connect ETIMEDOUT|database/.test(text);
  return {
    message: dbDown ? 'The database cannot be reached. Check that PostgreSQL (or vigil start) is running and DATABASE_URL is right.' : 'Internal error',
    errorId,
  };
};
