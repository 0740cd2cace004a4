/**
 * Enrolment: how an exporter joins the fleet by itself, shared by the exporter
 * (which signs) and the console (which verifies).
 *
 * - The exporter keeps an Ed25519 key pair in its state directory: its identity,
 *   never the machine-id (cloned VMs and containers share that one).
 * - Each request it makes of the console is a compact JWS signed with that key,
 *   with the public key in the protected header (`jwk`), a fresh `jti`, and a
 *   lifetime of at most {@link ENROL_MAX_AGE_SECONDS}: the console refuses a
 *   replayed one (same `jti`) and one whose key is not the host's.
 * - The console answers with a JWS signed by its own key (the one that signs
 *   terminal tickets), addressed (`aud`) to the host key's RFC 7638 thumbprint:
 *   an exporter that pinned the console's public key at install checks whom it
 *   enrolled with, and the scrape credential inside is bound to that key.
 */
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import * as z from 'zod/mini';
import { targetLabels, targetName, targetUrl } from './target-schema.js';

/** How long a signed request is good for, seconds (clocks may differ by {@link ENROL_CLOCK_SKEW_SECONDS} more). */
export const ENROL_MAX_AGE_SECONDS = 120;
/** How far apart an exporter's and the console's clocks may be, seconds. */
export const ENROL_CLOCK_SKEW_SECONDS = 60;
/** The JWS `typ` of each kind of signed message. */
export const ENROL_TYPES = Object.freeze({
  /** Exporter → console: enrol (or enrol again) with this key. */
  enrol: 'vigil-enrol+jwt',
  /** Exporter → console: open the connect-out socket, or leave (`deregister`). */
  connect: 'vigil-connect+jwt',
  deregister: 'vigil-deregister+jwt',
  /** Console → exporter: the enrolment's answer. */
  enrolled: 'vigil-enrolled+jwt',
});
/** The console's enrolment route, below its URL. */
export const ENROL_PATH = '/api/v1/enrol';
/** The console's connect-out WebSocket, below its URL. */
export const CONNECT_PATH = '/api/v1/connect';

const text = (max: number) => z.string().check(z.maxLength(max));

/** What an exporter says of its host; every field optional, each short. Shown on the host page; filters by provider and region. */
export const hostMetadata = z.object({
  provider: z.optional(text(100)),
  region: z.optional(text(100)),
  hostname: z.optional(text(253)),
  os: z.optional(text(200)),
  kernel: z.optional(text(200)),
  arch: z.optional(text(50)),
  cpu_model: z.optional(text(200)),
  cores: z.optional(z.int().check(z.gte(0), z.lte(65_536))),
  memory_bytes: z.optional(z.number().check(z.gte(0))),
  exporter_version: z.optional(text(50)),
  /** Set by the console: the name this host asked for, taken by another host's key. */
  name_conflict: z.optional(text(63)),
});
export type HostMetadata = z.infer<typeof hostMetadata>;

/** The claims of an enrolment request (besides iat, exp, jti). */
export const enrolClaims = z.object({
  /** The name it asks for: VIGIL_HOST_NAME, or the hostname. */
  name: targetName,
  /** Its advertised metrics URL; absent when it connects out. */
  url: z.optional(targetUrl),
  /** It connects out (no URL the scraper can reach). */
  connect: z.boolean(),
  labels: z.optional(targetLabels),
  metadata: hostMetadata,
});
export type EnrolClaims = z.infer<typeof enrolClaims>;

/** What the console answers an enrolment (inside its signed answer). */
export interface EnrolAnswer {
  target_id: number;
  /** The name it got: the one asked for, or another when that one is another key's. */
  name: string;
  /** The bearer token its scrapers send it: its own, bound to its key. */
  credential: string;
  /** Waits for an admin's approval before it is scraped. */
  pending: boolean;
  /** The name asked for, when it was another key's. */
  conflict?: string;
  /** Created now (true) or found by its key (false). */
  created: boolean;
}

/** Why a signed message was refused: a short code, and words saying what to do. */
export class EnrolError extends Error {
  override name = 'EnrolError';
  constructor(
    readonly code: 'malformed' | 'signature' | 'expired' | 'replayed' | 'key' | 'claims',
    message: string,
  ) {
    super(message);
  }
}

/** An exporter's identity: its Ed25519 key pair as JWKs. */
export interface HostIdentity {
  privateJwk: jose.JWK;
  publicJwk: jose.JWK;
  /** RFC 7638 thumbprint (SHA-256, base64url) of the public key. */
  thumbprint: string;
}

/** Makes a new identity (Ed25519). */
export async function newHostIdentity(): Promise<HostIdentity> {
  const { privateKey, publicKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await jose.exportJWK(publicKey);
  return { privateJwk: await jose.exportJWK(privateKey), publicJwk, thumbprint: await jose.calculateJwkThumbprint(publicJwk) };
}

/**
 * Reads an identity kept as its private JWK (the public half is derived).
 * @throws Error when it is not an Ed25519 private JWK
 */
export async function hostIdentityOf(privateJwk: jose.JWK): Promise<HostIdentity> {
  if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || typeof privateJwk.d !== 'string' || typeof privateJwk.x !== 'string')
    throw new Error('not an Ed25519 private key (a JWK with kty OKP, crv Ed25519, x and d)');
  const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x };
  return { privateJwk, publicJwk, thumbprint: await jose.calculateJwkThumbprint(publicJwk) };
}

/**
 * Signs a message from an exporter: compact JWS (EdDSA) with the public key in
 * the header, a fresh `jti`, `iat` now and `exp` {@link ENROL_MAX_AGE_SECONDS} on.
 */
export async function signHostMessage(identity: HostIdentity, typ: string, claims: Record<string, unknown>): Promise<string> {
  const key = await jose.importJWK(identity.privateJwk, 'EdDSA');
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ, jwk: identity.publicJwk })
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + ENROL_MAX_AGE_SECONDS)
    .sign(key);
}

/** A verified message from an exporter. */
export interface HostMessage {
  claims: Record<string, unknown>;
  jwk: Record<string, string>;
  thumbprint: string;
  jti: string;
  /** When it stops being accepted (its `exp`, plus the clock skew): how long to remember its `jti`. */
  expiresAt: Date;
}

/**
 * Verifies an exporter's signed message: EdDSA only, signed by the Ed25519 key
 * in its header (or by `expectedThumbprint`'s key when given), the right `typ`,
 * an `exp` at most {@link ENROL_MAX_AGE_SECONDS} after `iat`, not expired, and a
 * `jti`. Whether the `jti` was seen before is the caller's (the database's) to say.
 * @throws EnrolError saying what was wrong
 */
export async function verifyHostMessage(jws: string, typ: string, expectedThumbprint?: string): Promise<HostMessage> {
  if (jws.length > 16_384) throw new EnrolError('malformed', 'the signed request is longer than 16 KiB');
  let header: jose.ProtectedHeaderParameters;
  try {
    header = jose.decodeProtectedHeader(jws);
  } catch {
    throw new EnrolError('malformed', 'not a compact JWS; send the request the exporter signs (vigil-exporter enrols by itself)');
  }
  const jwk = header.jwk as Record<string, string> | undefined;
  if (header.alg !== 'EdDSA' || !jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string' || 'd' in jwk)
    throw new EnrolError('malformed', 'the request must be signed with EdDSA by an Ed25519 public key given in its header (jwk)');
  if (header.typ !== typ) throw new EnrolError('malformed', `expected a ${typ} message, got ${String(header.typ).slice(0, 40)}`);
  const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  const thumbprint = await jose.calculateJwkThumbprint(publicJwk);
  if (expectedThumbprint !== undefined && thumbprint !== expectedThumbprint)
    throw new EnrolError('key', "signed with a key that is not this host's; a host keeps its key in its state directory");
  let payload: jose.JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(jws, await jose.importJWK(publicJwk, 'EdDSA'), {
      algorithms: ['EdDSA'],
      typ,
      clockTolerance: ENROL_CLOCK_SKEW_SECONDS,
      requiredClaims: ['iat', 'exp', 'jti'],
    }));
  } catch (e) {
    if (e instanceof jose.errors.JWTExpired)
      throw new EnrolError('expired', "the signed request has expired; check the host's clock (NTP) and try again");
    if (e instanceof jose.errors.JWSSignatureVerificationFailed)
      throw new EnrolError('signature', 'the signature does not match the key in the request');
    throw new EnrolError('malformed', `the signed request is not valid: ${(e as Error).message}`);
  }
  if ((payload.exp ?? 0) - (payload.iat ?? 0) > ENROL_MAX_AGE_SECONDS || (payload.iat ?? 0) > Date.now() / 1000 + ENROL_CLOCK_SKEW_SECONDS)
    throw new EnrolError('expired', `a signed request lives at most ${ENROL_MAX_AGE_SECONDS} s from its iat; check the host's clock`);
  return {
    claims: payload as Record<string, unknown>,
    jwk: publicJwk,
    thumbprint,
    jti: String(payload.jti).slice(0, 100),
    expiresAt: new Date(((payload.exp ?? 0) + ENROL_CLOCK_SKEW_SECONDS) * 1000),
  };
}

/** Signs the console's answer to an enrolment with its (terminal ticket) key, addressed to the host's key thumbprint. */
export async function signEnrolAnswer(consoleKey: jose.CryptoKey, thumbprint: string, answer: EnrolAnswer): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ ...answer })
    .setProtectedHeader({ alg: 'EdDSA', typ: ENROL_TYPES.enrolled })
    .setAudience(thumbprint)
    .setIssuedAt(now)
    .setExpirationTime(now + ENROL_MAX_AGE_SECONDS)
    .sign(consoleKey);
}

/**
 * Checks the console's signed answer with its pinned public key, addressed to this host's key.
 * @throws EnrolError (signature) when another key signed it or it is addressed to another host
 */
export async function verifyEnrolAnswer(consolePublicKey: jose.CryptoKey, thumbprint: string, jws: string): Promise<EnrolAnswer> {
  try {
    const { payload } = await jose.jwtVerify(jws, consolePublicKey, {
      algorithms: ['EdDSA'],
      typ: ENROL_TYPES.enrolled,
      audience: thumbprint,
      clockTolerance: ENROL_CLOCK_SKEW_SECONDS,
    });
    return payload as unknown as EnrolAnswer;
  } catch (e) {
    throw new EnrolError(
      'signature',
      `the console's answer is not signed by the pinned key (VIGIL_CONSOLE_PUBLIC_KEY) for this host: ${(e as Error).message}; check VIGIL_CONSOLE_URL points at your console`,
    );
  }
}

/**
 * Reads `rack=a,role=db` into labels. Split on commas and the first `=`; no regular expression.
 * @throws Error naming the part that is not name=value
 */
export function parseLabelList(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of list.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 1) throw new Error(`"${p.slice(0, 40)}" is not name=value (write e.g. rack=a,role=db)`);
    out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return out;
}
