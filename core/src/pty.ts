/**
 * The PTY socket: what the console and an exporter say to each other over the
 * exporter's `/pty` WebSocket, and what the console and a browser say over
 * `/ws/terminal/<host>`. Both hops use the same frames:
 *
 * - a binary frame is terminal bytes (output of the shell or the logs one way,
 *   keystrokes the other), at most {@link PTY_MAX_FRAME_BYTES};
 * - a text frame is one JSON control message ({@link ClientControl} towards
 *   the shell, {@link ServerControl} from it).
 *
 * The ticket that opens a session is a compact JWS (EdDSA, Ed25519) that the
 * console signs and the exporter verifies: {@link mintTicket}, {@link TicketVerifier}.
 */
import { randomUUID, type webcrypto } from 'node:crypto';
import * as jose from 'jose';
import * as z from 'zod/mini';

/** The exporter's path for PTY sessions. */
export const PTY_PATH = '/pty';
/** The largest frame either side accepts, bytes; a bigger one closes the socket (1009). */
export const PTY_MAX_FRAME_BYTES = 64 * 1024;
/** A ticket's longest life, seconds: a ticket whose `exp` is further ahead is refused. */
export const TICKET_MAX_LIFETIME_SECONDS = 60;
/** How far apart the console's and an exporter's clocks may be, seconds. */
export const TICKET_CLOCK_SKEW_SECONDS = 5;
/** WebSocket close code for a session ended by its limits (idle, duration) or by the console. */
export const CLOSE_SESSION_ENDED = 4000;
/** WebSocket close code for a refused request (no right, bad ticket); the reason says why. */
export const CLOSE_REFUSED = 4003;

/** An imported ticket key (private for signing, public for verifying). */
export type TicketKey = webcrypto.CryptoKey;

const dimension = z.number().check(z.int(), z.minimum(1), z.maximum(1000));

/** What a session runs: a shell on the host, a shell in a container, or a container's logs (read-only). */
export type SessionKind = 'shell' | 'exec' | 'logs';

/** What a ticket grants, besides the standard claims (`aud`, `sub`, `exp`, `iat`, `jti`). */
export const ticketGrant = z.object({
  kind: z.enum(['shell', 'exec', 'logs']),
  /** The container's name or id, for `exec` and `logs`. */
  container: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  /** Lines of history for `logs` (default 200). */
  tail: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(100_000))),
  cols: z.optional(dimension),
  rows: z.optional(dimension),
});
/** What a ticket grants. */
export type TicketGrant = z.infer<typeof ticketGrant>;

/** Towards the shell: the terminal's size changed; the browser has drawn `bytes` more bytes (console hop only). */
export const clientControl = z.discriminatedUnion('type', [
  z.object({ type: z.literal('resize'), cols: dimension, rows: dimension }),
  z.object({ type: z.literal('ack'), bytes: z.number().check(z.int(), z.minimum(0), z.maximum(1 << 30)) }),
]);
/** A control message towards the shell. */
export type ClientControl = z.infer<typeof clientControl>;

/**
 * From the shell's side:
 * - `ready`: the session runs (`session` and `offset` on the console hop: the
 *   id to re-attach with, and the output offset the bytes that follow start at);
 * - `exit`: the process ended (code, or the signal that ended it);
 * - `error`: the session could not start or was ended, and why.
 */
export type ServerControl =
  | { type: 'ready'; kind: SessionKind; session?: string; offset?: number; resumed?: boolean }
  | { type: 'exit'; code: number | null; signal: string | null }
  | { type: 'error'; message: string };

/**
 * Parses one text frame towards the shell.
 * @returns the message, or an error naming what was wrong (the frame is then ignored, never executed)
 */
export function parseClientControl(text: string): { ok: true; value: ClientControl } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'a text frame must be one JSON control message' };
  }
  const r = clientControl.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    error: `bad control message: ${r.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`,
  };
}

/** A parsed Ed25519 key pair as PEM text (PKCS#8 private, SPKI public). */
export interface TicketKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** Makes a new Ed25519 key pair for tickets, as PEM text. */
export async function generateTicketKeys(): Promise<TicketKeyPair> {
  const { privateKey, publicKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { privateKeyPem: await jose.exportPKCS8(privateKey), publicKeyPem: await jose.exportSPKI(publicKey) };
}

/**
 * Reads an Ed25519 private key (PKCS#8 PEM) for signing tickets.
 * @throws Error saying what was wrong (never the key)
 */
export async function importTicketPrivateKey(pem: string): Promise<TicketKey> {
  try {
    return (await jose.importPKCS8(pem.trim(), 'EdDSA')) as TicketKey;
  } catch {
    throw new Error('expected an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----), e.g. from `vigil keys`');
  }
}

/**
 * Reads an Ed25519 public key (SPKI PEM) for verifying tickets.
 * @throws Error saying what was wrong
 */
export async function importTicketPublicKey(pem: string): Promise<TicketKey> {
  try {
    return (await jose.importSPKI(pem.trim(), 'EdDSA')) as TicketKey;
  } catch {
    throw new Error('expected an Ed25519 public key in SPKI PEM (-----BEGIN PUBLIC KEY-----)');
  }
}

/**
 * Signs a ticket for one session on one exporter: compact JWS, EdDSA, with
 * `aud` = the exporter's id, `sub` = the user, a fresh `jti`, `iat` now and
 * `exp` `lifetimeSeconds` ahead (at most {@link TICKET_MAX_LIFETIME_SECONDS}).
 */
export async function mintTicket(
  key: TicketKey,
  claims: { audience: string; subject: string; grant: TicketGrant; lifetimeSeconds?: number; jti?: string },
): Promise<string> {
  const life = Math.min(claims.lifetimeSeconds ?? 30, TICKET_MAX_LIFETIME_SECONDS);
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ ...claims.grant })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'vigil-pty+jwt' })
    .setAudience(claims.audience)
    .setSubject(claims.subject)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + life)
    .sign(key);
}

/** Why a ticket was refused: a short code for logs and the 401, never the ticket itself. */
export type TicketRefusal =
  | 'missing'
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'audience'
  | 'expired'
  | 'lifetime'
  | 'replayed'
  | 'grant';

/** A verified ticket. */
export interface Ticket {
  subject: string;
  jti: string;
  expiresAt: number;
  grant: TicketGrant;
}

/**
 * Verifies tickets for one exporter: signature (EdDSA with the console's public
 * key only; `alg: none` or any other algorithm is refused), audience (this
 * exporter's id), expiry (present, not past, at most
 * {@link TICKET_MAX_LIFETIME_SECONDS} ahead), and a `jti` never seen before
 * (remembered until the ticket would have expired, so memory is bounded by the
 * tickets of the last minute).
 */
export class TicketVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly publicKey: TicketKey,
    /** This exporter's id: the audience its tickets must name (an enrolled exporter sets it once it knows its name). */
    public audience: string,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /**
   * Checks an `Authorization` header's value (`Bearer <jws>`).
   * @returns the ticket, or the reason it is refused
   */
  async verify(authorization: string | undefined): Promise<{ ok: true; ticket: Ticket } | { ok: false; reason: TicketRefusal }> {
    const m = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
    if (!m) return { ok: false, reason: 'missing' };
    if (m.length > 8192) return { ok: false, reason: 'malformed' };
    const now = this.now();
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(m, this.publicKey, {
        algorithms: ['EdDSA'],
        audience: this.audience,
        clockTolerance: TICKET_CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'jti', 'sub', 'aud'],
        currentDate: new Date(now * 1000),
      }));
    } catch (e) {
      return { ok: false, reason: refusalOf(e) };
    }
    const exp = payload.exp!;
    if (exp - now > TICKET_MAX_LIFETIME_SECONDS + TICKET_CLOCK_SKEW_SECONDS) return { ok: false, reason: 'lifetime' };
    const grant = ticketGrant.safeParse(payload);
    if (!grant.success || typeof payload.jti !== 'string' || typeof payload.sub !== 'string') return { ok: false, reason: 'grant' };
    if ((grant.data.kind === 'exec' || grant.data.kind === 'logs') && !grant.data.container) return { ok: false, reason: 'grant' };
    this.forgetExpired(now);
    if (this.seen.has(payload.jti)) return { ok: false, reason: 'replayed' };
    this.seen.set(payload.jti, exp + TICKET_CLOCK_SKEW_SECONDS);
    return { ok: true, ticket: { subject: payload.sub, jti: payload.jti, expiresAt: exp, grant: grant.data } };
  }

  /** How many ticket ids are remembered now. */
  get remembered(): number {
    return this.seen.size;
  }

  private forgetExpired(now: number): void {
    // Insertion order is close to expiry order (lifetimes are short and capped).
    for (const [jti, until] of this.seen) {
      if (until >= now) break;
      this.seen.delete(jti);
    }
  }
}

function refusalOf(e: unknown): TicketRefusal {
  if (e instanceof jose.errors.JWTExpired) return 'expired';
  if (e instanceof jose.errors.JOSEAlgNotAllowed || e instanceof jose.errors.JOSENotSupported) return 'algorithm';
  if (e instanceof jose.errors.JWSSignatureVerificationFailed) return 'signature';
  if (e instanceof jose.errors.JWTClaimValidationFailed) return e.claim === 'aud' ? 'audience' : e.claim === 'exp' ? 'lifetime' : 'grant';
  return 'malformed';
}

/** What each refusal means, for the log line and the 401's body. */
export const REFUSAL_TEXT: Record<TicketRefusal, string> = {
  missing: 'no ticket: send Authorization: Bearer <ticket signed by the console>',
  malformed: 'the ticket is not a compact JWS',
  algorithm: 'the ticket is not signed with EdDSA',
  signature: "the ticket's signature does not verify with VIGIL_CONSOLE_PUBLIC_KEY (another console's key, or altered)",
  audience: "the ticket is for another exporter (its aud is not this exporter's VIGIL_EXPORTER_ID)",
  expired: 'the ticket has expired (or the clocks of the console and this host differ by more than 5 s)',
  lifetime: 'the ticket has no expiry, or lives longer than 60 s',
  replayed: 'the ticket was already used',
  grant: 'the ticket does not say what to open (kind, container)',
};
