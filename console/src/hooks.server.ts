import { randomUUID } from 'node:crypto';
import { type Handle, type HandleServerError, isHttpError, json, redirect, type ServerInit } from '@sveltejs/kit';
import { authenticate, authorize, credentialOf, isSafeMethod, PENDING_ROUTES, type PendingSignIn, SESSION_COOKIE } from '$lib/server/auth';
import { consoleConfig, hostAllowed } from '$lib/server/config';
import { CONNECT_UPGRADE_HANDLER, type ConnectHub, connectHub } from '$lib/server/connect';
import { getDb } from '$lib/server/db';
import { firstStart } from '$lib/server/first-start';
import { log } from '$lib/server/log';
import { closeTerminals, SHUTDOWN_HANDLER, terminalHub, UPGRADE_HANDLER } from '$lib/server/terminal';
import { THEME_COOKIE, themeOf } from '$lib/theme';

/**
 * Hands the console's Node server (src/server.ts, a separate bundle) the
 * terminal upgrade handler, so terminals share this app's database, sessions
 * and stream registry, and the function that ends them at shutdown.
 */
export const init: ServerInit = async () => {
  (globalThis as Record<symbol, unknown>)[UPGRADE_HANDLER] = async (
    ...args: Parameters<import('$lib/server/terminal').TerminalHub['handleUpgrade']>
  ) => (await terminalHub()).handleUpgrade(...args);
  (globalThis as Record<symbol, unknown>)[CONNECT_UPGRADE_HANDLER] = async (...args: Parameters<ConnectHub['handleUpgrade']>) =>
    (await connectHub()).handleUpgrade(...args);
  (globalThis as Record<symbol, unknown>)[SHUTDOWN_HANDLER] = closeTerminals;
  // A fresh install (docker compose up): the first admin, its password in the log once.
  await firstStart(
    getDb,
    consoleConfig().adminPassword,
    (s) => process.stdout.write(s),
    (m) => log().warn(m),
  );
};

/** Headers on every answer: no framing, no sniffing, no referrer leaving the console, HSTS over https. */
function secure(response: Response, https: boolean): Response {
  const h = response.headers;
  h.set('X-Content-Type-Options', 'nosniff');
  h.set('Referrer-Policy', 'same-origin');
  h.set('X-Frame-Options', 'DENY');
  h.set('Cross-Origin-Opener-Policy', 'same-origin');
  h.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
  if (https) h.set('Strict-Transport-Security', 'max-age=31536000');
  // The pages' policy comes from svelte.config.js (kit.csp, with a nonce for
  // SvelteKit's own bootstrap); API answers and error texts get the strictest.
  if (!h.has('Content-Security-Policy')) h.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  return response;
}

/**
 * Every request, in this order:
 * 1. its Host must be the configured origin's (or an IP address), so a foreign
 *    page whose name was re-pointed at this machine (DNS rebinding) is refused;
 * 2. its credential (API key or session cookie) names the principal;
 * 3. {@link authorize} decides from the route's policy, the role, and the
 *    Origin of unsafe methods: pages send the signed-out to /login, the API
 *    answers `{error: {code, message}}` with 401/403/404/405.
 */
export const handle: Handle = async ({ event, resolve }) => {
  const { origin, session } = consoleConfig();
  const https = origin.protocol === 'https:';
  // The relay of hosts that connect out is for scrapers (http://console:3000 in compose), never browsers: no cookie counts there.
  const relay = event.url.pathname.startsWith('/api/v1/connect/');
  if (!relay && !hostAllowed(event.request.headers.get('host'), origin)) {
    return secure(
      new Response(`This console answers to ${origin.host}; set VIGIL_CONSOLE_ORIGIN to the address you use.\n`, {
        status: 421,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      }),
      https,
    );
  }
  const api = event.url.pathname.startsWith('/api/');
  const credential = relay
    ? credentialOf(event.request.headers, { get: () => undefined })
    : credentialOf(event.request.headers, event.cookies);
  event.locals.pending = null;
  event.locals.principal = credential
    ? await authenticate(await getDb(), credential, session, (p) => {
        event.locals.pending = p;
      })
    : null;
  const pending = event.locals.pending as PendingSignIn | null;
  // A cookie that names no live session (expired, signed out elsewhere): dropped.
  if (credential && 'session' in credential && !event.locals.principal && !pending) event.cookies.delete(SESSION_COOKIE, { path: '/' });
  const method = event.request.method;
  // Half signed in: only the page that completes the sign-in, and signing out.
  if (pending && !PENDING_ROUTES[pending.stage].includes(event.route.id ?? '')) {
    const where = pending.stage === 'verify' ? '/login/two-factor' : '/account/two-factor';
    if (!api && isSafeMethod(method)) {
      const next = event.url.pathname + event.url.search;
      redirect(303, `${where}${next === '/' || pending.stage === 'enrol' ? '' : `?next=${encodeURIComponent(next)}`}`);
    }
    const [status, code, message] =
      pending.stage === 'verify'
        ? [401, 'second_factor_required', 'enter your two-factor code first (/login/two-factor)']
        : [
            403,
            'two_factor_setup_required',
            `the ${pending.user.role} role must sign in with two factors: set them up at /account/two-factor`,
          ];
    return secure(json({ error: { code, message } }, { status }), https);
  }
  const decision = authorize(
    event.route.id,
    method,
    event.locals.principal,
    event.request.headers.get('origin'),
    origin,
    credential !== null && 'apiKey' in credential,
  );
  if (!decision.ok) {
    if (decision.status === 403 || decision.code === 'forbidden_origin')
      log().warn({ route: event.route.id, method, user: event.locals.principal?.user.name, code: decision.code }, 'request refused');
    if (!api && decision.status === 401 && isSafeMethod(method)) {
      const next = event.url.pathname + event.url.search;
      redirect(303, `/login${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`);
    }
    if (api || !isSafeMethod(method))
      return secure(json({ error: { code: decision.code, message: decision.message } }, { status: decision.status }), https);
    return secure(
      new Response(decision.message, { status: decision.status, headers: { 'content-type': 'text/plain; charset=utf-8' } }),
      https,
    );
  }
  // The theme chosen with the switch, on <html> as the page is rendered (no flash of the other one).
  const theme = themeOf(event.cookies.get(THEME_COOKIE));
  return secure(await resolve(event, { transformPageChunk: ({ html }) => html.replace('%vigil.theme%', theme) }), https);
};

/** Unexpected errors: logged with an id, shown to the user as that id and a safe message only. */
export const handleError: HandleServerError = ({ error, status, message }) => {
  if (status === 404 || isHttpError(error)) return { message };
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
