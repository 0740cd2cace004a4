/**
 * Who is asking, and whether they may: every page, form action and API route
 * is decided here, from {@link POLICY}, by the server (hooks.server.ts calls
 * {@link authorize} before any load, action or handler runs). A route missing
 * from the policy is refused, so a new route is closed until it is listed.
 */
import type { Cookies, RequestEvent } from '@sveltejs/kit';
import { type Account, apiKeyUser, type Database, type Role, roleAtLeast, sessionUser } from '@vigil/db';
import type { Kysely } from 'kysely';
import { mustEnrol } from './two-factor';

/** The session cookie's name. */
export const SESSION_COOKIE = 'vigil_session';

/** Who a request acts as, and how it proved it. */
export interface Principal {
  user: Account;
  via: 'session' | 'api_key';
}

/** What a route needs: a role at least (`viewer`: anyone signed in), or `public` (nobody needs to sign in). */
export type Need = Role | 'public';

/**
 * The role each route needs, by SvelteKit route id: `read` for GET and HEAD,
 * `write` for every other method (form actions, API writes). `null`: the
 * method is not offered at all. Finer rules (an API key's owner, an admin for
 * another user's keys) are checked by the handler on top of this.
 */
export const POLICY: Record<string, { read: Need | null; write: Need | null }> = {
  '/login': { read: 'public', write: 'public' },
  // The second step of a sign-in, and setting up two factors: the handlers check the half-signed-in session (hooks.server.ts).
  '/login/two-factor': { read: 'public', write: 'public' },
  // Sign-in through an OpenID provider: leaving for it, and coming back.
  '/login/oidc': { read: 'public', write: null },
  '/login/oidc/callback': { read: 'public', write: null },
  '/account/two-factor': { read: 'public', write: 'public' },
  // Anyone may end the session their cookie names (a half-signed-in one too); the Origin check still applies.
  '/logout': { read: null, write: 'public' },
  '/': { read: 'viewer', write: null },
  '/events': { read: 'viewer', write: null },
  '/alerts': { read: 'viewer', write: 'operator' },
  '/hosts/[id]': { read: 'viewer', write: 'operator' },
  '/hosts/[id]/terminal': { read: 'developer', write: null },
  '/hosts/[id]/logs': { read: 'developer', write: null },
  '/account': { read: 'viewer', write: 'viewer' },
  '/admin/targets': { read: 'operator', write: 'operator' },
  '/admin/scrapers': { read: 'operator', write: null },
  '/admin/status-pages': { read: 'admin', write: 'admin' },
  // Public and read-only: states and availability, nothing internal.
  '/status/[slug]': { read: 'public', write: null },
  '/admin/channels': { read: 'operator', write: 'admin' },
  '/admin/users': { read: 'admin', write: 'admin' },
  '/admin/keys': { read: 'admin', write: 'admin' },
  '/admin/enrolment': { read: 'admin', write: 'admin' },
  '/admin/audit': { read: 'admin', write: null },
  '/admin/terminals': { read: 'admin', write: null },
  '/admin/terminals/[id]': { read: 'admin', write: null },
  '/admin/terminals/[id]/cast': { read: 'admin', write: null },
  '/health': { read: 'public', write: null },
  '/health/db': { read: 'public', write: null },
  '/api/v1/health': { read: 'public', write: null },
  '/api/v1/health/db': { read: 'public', write: null },
  '/api/v1/me': { read: 'viewer', write: null },
  // The API's description: what it offers, nothing of what it holds.
  '/api/v1/openapi.json': { read: 'public', write: null },
  '/api/v1/targets': { read: 'viewer', write: 'operator' },
  '/api/v1/scrapers': { read: 'operator', write: null },
  '/api/v1/targets/[id]': { read: 'viewer', write: 'operator' },
  '/api/v1/targets/[id]/heartbeats': { read: 'viewer', write: null },
  '/api/v1/targets/[id]/events': { read: 'viewer', write: null },
  '/api/v1/targets/[id]/inventory': { read: 'viewer', write: null },
  '/api/v1/targets/[id]/uptime': { read: 'viewer', write: null },
  '/api/v1/targets/[id]/interfaces': { read: 'viewer', write: null },
  '/api/v1/targets/[id]/containers': { read: 'viewer', write: null },
  '/api/v1/targets/[id]/scrape': { read: null, write: 'operator' },
  '/api/v1/targets/scrape': { read: null, write: 'operator' },
  '/api/v1/targets/[id]/approve': { read: null, write: 'admin' },
  '/api/v1/targets/[id]/reject': { read: null, write: 'admin' },
  '/api/v1/enrolment-tokens': { read: 'admin', write: 'admin' },
  '/api/v1/enrolment-tokens/[id]': { read: null, write: 'admin' },
  // An exporter enrolling itself or leaving: the request signed by its key (and a token the first time) is the proof.
  '/api/v1/enrol': { read: null, write: 'public' },
  // Hosts that connect out, scraped through the console: the host's credential or an API key (the handler checks).
  '/api/v1/connect/[id]/[endpoint]': { read: 'public', write: null },
  '/api/v1/channels': { read: 'viewer', write: 'admin' },
  '/api/v1/channels/[id]': { read: 'viewer', write: 'admin' },
  '/api/v1/channels/[id]/test': { read: null, write: 'operator' },
  '/api/v1/events': { read: 'viewer', write: null },
  '/api/v1/alert-rules': { read: 'viewer', write: 'operator' },
  '/api/v1/alert-rules/[id]': { read: 'viewer', write: 'operator' },
  '/api/v1/alerts': { read: 'viewer', write: null },
  '/api/v1/alerts/[id]': { read: 'viewer', write: null },
  '/api/v1/alerts/[id]/silence': { read: null, write: 'operator' },
  '/api/v1/silences': { read: 'viewer', write: 'operator' },
  '/api/v1/silences/[id]': { read: 'viewer', write: 'operator' },
  '/api/v1/fleet': { read: 'viewer', write: null },
  '/api/v1/fleet/stream': { read: 'viewer', write: null },
  '/api/v1/api-keys': { read: 'viewer', write: 'viewer' },
  '/api/v1/api-keys/[id]': { read: null, write: 'viewer' },
  '/api/v1/users': { read: 'admin', write: 'admin' },
  '/api/v1/users/[name]': { read: 'admin', write: 'admin' },
  '/api/v1/audit': { read: 'admin', write: null },
  // Anyone's own sessions (a viewer has none); admins everyone's: the handlers filter.
  '/api/v1/terminal-sessions': { read: 'viewer', write: null },
  '/api/v1/terminal-sessions/[id]': { read: 'viewer', write: null },
  '/api/v1/terminal-sessions/[id]/recording': { read: 'viewer', write: null },
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a method only reads. */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/** The credential a request carries: an API key (`Authorization: Bearer …` or `X-API-Key`), else the session cookie. */
export function credentialOf(headers: Headers, cookies: Pick<Cookies, 'get'>): { apiKey: string } | { session: string } | null {
  const auth = headers.get('authorization');
  if (auth?.toLowerCase().startsWith('bearer ')) return { apiKey: auth.slice(7).trim() };
  const key = headers.get('x-api-key');
  if (key) return { apiKey: key.trim() };
  const session = cookies.get(SESSION_COOKIE);
  return session ? { session } : null;
}

/**
 * The principal of a request, or null (no credential, or one that names no
 * live session or usable key). The role is read from the database on every
 * request, so a demotion or removal applies at once.
 */
export async function authenticate(
  db: Kysely<Database>,
  credential: ReturnType<typeof credentialOf>,
  limits: { maxAgeSeconds: number; idleSeconds: number },
  onPending?: (pending: PendingSignIn) => void,
): Promise<Principal | null> {
  if (!credential) return null;
  if ('apiKey' in credential) {
    const found = await apiKeyUser(db, credential.apiKey);
    return found ? { user: found.user, via: 'api_key' } : null;
  }
  const found = await sessionUser(db, credential.session, limits);
  if (!found) return null;
  // Half a sign-in signs nobody in: the code is still to come, or the role needs two factors and there are none yet.
  if (found.session.second_factor_pending) {
    onPending?.({ user: found.user, stage: 'verify' });
    return null;
  }
  if (await mustEnrol(db, found.user)) {
    onPending?.({ user: found.user, stage: 'enrol' });
    return null;
  }
  return { user: found.user, via: 'session' };
}

/**
 * A session whose password was right but which signs nobody in yet: its
 * second factor is to be given (`verify`, at /login/two-factor), or its
 * user's role must use two factors and they have none (`enrol`, at
 * /account/two-factor). Those pages, and signing out, are all it may reach.
 */
export interface PendingSignIn {
  user: Account;
  stage: 'verify' | 'enrol';
}

/** The pages a half-signed-in session may reach, by stage: where it completes, and sign-out. */
export const PENDING_ROUTES: Record<PendingSignIn['stage'], readonly string[]> = {
  verify: ['/login/two-factor', '/logout'],
  enrol: ['/account/two-factor', '/logout'],
};

/**
 * Whether an unsafe request (POST, PATCH, DELETE…) may come from where it says:
 * its `Origin` must be the console's own. A browser always sends Origin on
 * such requests, so one without it is a script, allowed only when it carries
 * an API key header (a cross-site page cannot set that header without a CORS
 * preflight, which the console never grants; whether the key is good is
 * decided after, as for any request).
 */
export function originAllowed(method: string, origin: string | null, consoleOrigin: URL, carriesApiKey: boolean): boolean {
  if (isSafeMethod(method)) return true;
  if (origin === null) return carriesApiKey;
  return origin === consoleOrigin.origin;
}

/** The outcome of {@link authorize}: go on, or refuse with this status, code and message. */
export type Decision = { ok: true } | { ok: false; status: 401 | 403 | 404 | 405; code: string; message: string };

/**
 * Decides a request from the policy: the route's need for this method, the
 * principal, and the Origin of unsafe requests.
 * @param routeId SvelteKit's route id, null when no route matched (a 404 follows)
 * @param carriesApiKey whether the request has an API key header, good or not
 */
export function authorize(
  routeId: string | null,
  method: string,
  principal: Principal | null,
  origin: string | null,
  consoleOrigin: URL,
  carriesApiKey = principal?.via === 'api_key',
): Decision {
  if (!originAllowed(method, origin, consoleOrigin, carriesApiKey))
    return {
      ok: false,
      status: 403,
      code: 'forbidden_origin',
      message: `cross-site request refused: a ${method} must come from ${consoleOrigin.origin}`,
    };
  if (routeId === null) return { ok: true };
  const rule = POLICY[routeId];
  if (!rule) return { ok: false, status: 404, code: 'not_found', message: 'no such page' };
  const need = isSafeMethod(method) ? rule.read : rule.write;
  if (need === null) return { ok: false, status: 405, code: 'method_not_allowed', message: `${method} is not offered here` };
  if (need === 'public') return { ok: true };
  if (!principal) return { ok: false, status: 401, code: 'unauthenticated', message: 'sign in first (or send an API key)' };
  if (!roleAtLeast(principal.user.role, need))
    return {
      ok: false,
      status: 403,
      code: 'forbidden',
      message: `this needs the ${need} role or above; ${principal.user.name} is ${principal.user.role}`,
    };
  return { ok: true };
}

/** The client's address: the peer's, or with proxies configured, the one they recorded (adapter-node's XFF_DEPTH). */
export function clientAddress(event: Pick<RequestEvent, 'getClientAddress'>): string | null {
  try {
    return event.getClientAddress();
  } catch {
    return null;
  }
}
