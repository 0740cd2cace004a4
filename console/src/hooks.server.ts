import { randomUUID } from 'node:crypto';
import type { Handle, HandleServerError } from '@sveltejs/kit';
import { consoleConfig, hostAllowed } from '$lib/server/config';

/**
 * Every request: its Host must be the configured origin's (or an IP address),
 * so that a foreign page whose name was re-pointed at this machine (DNS
 * rebinding) is refused, even on loopback.
 */
export const handle: Handle = async ({ event, resolve }) => {
  const { origin } = consoleConfig();
  if (!hostAllowed(event.request.headers.get('host'), origin)) {
    return new Response(`This console answers to ${origin.host}; set VIGIL_CONSOLE_ORIGIN to the address you use.\n`, {
      status: 421,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  return resolve(event);
};

/** Unexpected errors: logged with an id, shown to the user as that id and a safe message only. */
export const handleError: HandleServerError = ({ error, status, message }) => {
  if (status === 404) return { message };
  const errorId = randomUUID();
  console.error(`[${errorId}]`, error);
  const text = (error as Error)?.message ?? '';
  const dbDown = /ECONNREFUSED|Connection terminated|connect ETIMEDOUT|database/.test(text);
  return {
    message: dbDown
      ? 'The database cannot be reached. Check that PostgreSQL (or vigil start) is running and DATABASE_URL is right.'
      : 'Internal error',
    errorId,
  };
};
