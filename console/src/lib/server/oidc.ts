/**
 * Sign-in through an OpenID Connect provider (VIGIL_OIDC_*): the
 * authorization code flow with PKCE, state and nonce, by the openid-client
 * library (discovery, the token request, the ID token's signature, issuer,
 * audience, expiry and nonce). The provider's groups (a claim) give the role,
 * at every sign-in; the account is linked by issuer and `sub`.
 */
import type { Cookies } from '@sveltejs/kit';
import { type Database, linkIdentity, ROLES, type Role, userNameFrom, writeAudit } from '@vigil/db';
import type { Kysely } from 'kysely';
import * as client from 'openid-client';
import { consoleConfig, type OidcConfig } from './config';
import { log } from './log';
import { startSession } from './login';

/** The cookie holding a sign-in's state, nonce and PKCE verifier between leaving for the provider and coming back. */
export const OIDC_COOKIE = 'vigil_oidc';
const FLOW_SECONDS = 600;

let discovered: { key: string; config: Promise<client.Configuration> } | null = null;

/** The provider's configuration (discovery), fetched once; a failed fetch is tried again next time. @throws Error saying the provider could not be reached */
async function provider(o: OidcConfig): Promise<client.Configuration> {
  const key = `${o.issuer.href} ${o.clientId}`;
  if (discovered?.key !== key) {
    const loopbackHttp = o.issuer.protocol === 'http:';
    const config = client
      .discovery(
        o.issuer,
        o.clientId,
        undefined,
        o.clientSecret ? client.ClientSecretPost(o.clientSecret) : client.None(),
        loopbackHttp ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((err) => {
        discovered = null;
        throw new Error(`cannot read the OpenID provider's configuration at ${o.issuer.href}: ${(err as Error).message}`);
      });
    discovered = { key, config };
  }
  return discovered.config;
}

/** Where the provider sends the browser back. */
export function redirectUri(): string {
  return new URL('/login/oidc/callback', consoleConfig().origin).href;
}

/**
 * Begins a sign-in: fresh state, nonce and PKCE verifier in a short-lived
 * HttpOnly cookie, and the provider's authorization URL to send the browser to.
 */
export async function beginOidc(o: OidcConfig, cookies: Cookies, next: string): Promise<URL> {
  const config = await provider(o);
  const verifier = client.randomPKCECodeVerifier();
  const flow = { state: client.randomState(), nonce: client.randomNonce(), verifier, next };
  cookies.set(OIDC_COOKIE, Buffer.from(JSON.stringify(flow)).toString('base64url'), {
    path: '/login/oidc',
    httpOnly: true,
    sameSite: 'lax',
    secure: consoleConfig().origin.protocol === 'https:',
    maxAge: FLOW_SECONDS,
  });
  return client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri(),
    scope: o.scopes,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
}

/**
 * The role a provider's claim values give: of the mappings that match (`*`
 * matches anyone), the highest role. Null when none matches.
 */
export function roleFor(values: readonly string[], mapping: OidcConfig['roles']): Role | null {
  let best: Role | null = null;
  for (const [value, role] of mapping)
    if ((value === '*' || values.includes(value)) && (best === null || ROLES.indexOf(role) < ROLES.indexOf(best))) best = role;
  return best;
}

/** A claim's values as strings: a list, a single string, or nothing. */
function claimValues(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

/** What coming back from the provider came to. */
export type OidcOutcome = { ok: true; next: string; name: string } | { ok: false; status: 400 | 403 | 502; message: string };

/**
 * Finishes a sign-in where the provider sent the browser back: checks the
 * state, trades the code (with the PKCE verifier) for tokens, checks the ID
 * token and its nonce, maps the role claim to a role, links or makes the user
 * and starts a session. Every refusal says what to do and is logged without
 * tokens or codes.
 */
export async function finishOidc(
  db: Kysely<Database>,
  o: OidcConfig,
  cookies: Cookies,
  currentUrl: URL,
  meta: { clientAddress: string | null; userAgent: string | null },
): Promise<OidcOutcome> {
  const raw = cookies.get(OIDC_COOKIE);
  cookies.delete(OIDC_COOKIE, { path: '/login/oidc' });
  let flow: { state: string; nonce: string; verifier: string; next: string };
  try {
    flow = JSON.parse(Buffer.from(raw ?? '', 'base64url').toString());
    if (typeof flow.state !== 'string' || typeof flow.nonce !== 'string' || typeof flow.verifier !== 'string') throw new Error('shape');
  } catch {
    log().warn({ address: meta.clientAddress }, 'OpenID sign-in refused: no sign-in under way in this browser');
    return { ok: false, status: 400, message: 'No sign-in was under way in this browser, or it took over 10 minutes. Start again.' };
  }
  const error = currentUrl.searchParams.get('error');
  if (error) {
    const description = currentUrl.searchParams.get('error_description')?.slice(0, 200);
    log().warn({ address: meta.clientAddress, error, description }, 'OpenID provider refused the sign-in');
    return { ok: false, status: 403, message: `${o.name} did not sign you in (${error}${description ? `: ${description}` : ''}).` };
  }
  let claims: client.IDToken;
  let userinfo: Record<string, unknown> = {};
  try {
    const config = await provider(o);
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims()!;
    if (!(o.roleClaim in claims) && tokens.access_token)
      userinfo = (await client.fetchUserInfo(config, tokens.access_token, claims.sub)) as Record<string, unknown>;
  } catch (err) {
    const e = err as Error & { code?: string; cause?: unknown };
    // openid-client says "invalid response encountered"; what was wrong (the state, the nonce…) is its cause.
    const why = e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
    log().warn({ address: meta.clientAddress, code: e.code, err: why }, 'OpenID sign-in refused');
    if (e.message.startsWith('cannot read the OpenID provider'))
      return { ok: false, status: 502, message: `${o.name} cannot be reached. Try again later, or sign in with a password.` };
    return { ok: false, status: 400, message: `The answer from ${o.name} did not check out (${why.slice(0, 200)}). Start again.` };
  }
  const values = claimValues(claims[o.roleClaim] ?? userinfo[o.roleClaim]);
  const role = roleFor(values, o.roles);
  const issuer = claims.iss;
  if (!role) {
    log().warn(
      { address: meta.clientAddress, issuer, subject: claims.sub, claim: o.roleClaim, values },
      'OpenID sign-in refused: no role maps',
    );
    return {
      ok: false,
      status: 403,
      message: `Your account at ${o.name} is in no group that has a role in Vigil. Ask an admin to map one (VIGIL_OIDC_ROLES).`,
    };
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const linked = await linkIdentity(db, {
    issuer,
    subject: claims.sub,
    name: userNameFrom(str(claims.preferred_username) ?? str(userinfo.preferred_username), str(claims.email) ?? str(userinfo.email)),
    role,
  });
  if (linked.created)
    await writeAudit(db, {
      user: linked.user,
      action: 'user.create_oidc',
      objectType: 'user',
      objectId: linked.user.id,
      clientAddress: meta.clientAddress,
      after: { name: linked.user.name, role, issuer },
    });
  else if (linked.roleBefore)
    await writeAudit(db, {
      user: linked.user,
      action: 'user.set_role_oidc',
      objectType: 'user',
      objectId: linked.user.id,
      clientAddress: meta.clientAddress,
      before: { role: linked.roleBefore },
      after: { role },
    });
  await startSession(db, cookies, linked.user.id, meta);
  log().info({ user: linked.user.name, role, issuer, address: meta.clientAddress }, 'signed in through OpenID Connect');
  return { ok: true, next: flow.next, name: linked.user.name };
}
