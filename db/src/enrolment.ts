/**
 * Enrolment (`enrolment_tokens`, `enrolment_nonces`, and the enrolled hosts'
 * columns of `targets`): tokens admins hand to new hosts, and the one
 * transaction that turns a verified, signed request into a target.
 */
import { randomBytes } from 'node:crypto';
import type { EnrolClaims, HostMetadata } from '@vigil/core/enrolment';
import { type Kysely, sql } from 'kysely';
import type { Database, EnrolmentToken, Target } from './database.js';
import { secretHash } from './sessions.js';

/** An enrolment token as listings show it: never the token or its hash; with the uses left (null: no limit). */
export type EnrolmentTokenInfo = Omit<EnrolmentToken, 'token_hash'> & { uses_left: number | null; usable: boolean };

const TOKEN_PREFIX = 'vge_';

/** Why an enrolment or a token's creation was refused: a code for the API and words saying what to do. */
export class EnrolmentError extends Error {
  override name = 'EnrolmentError';
  constructor(
    readonly code:
      | 'invalid'
      | 'exists'
      | 'token_missing'
      | 'token_unknown'
      | 'token_revoked'
      | 'token_expired'
      | 'token_used_up'
      | 'replayed'
      | 'not_enrolled',
    message: string,
  ) {
    super(message);
  }
}

/** What it takes to make an enrolment token. */
export interface EnrolmentTokenInput {
  name: string;
  labels?: Record<string, string>;
  requireApproval?: boolean;
  /** How many hosts it may enrol; null or absent: no limit. */
  maxUses?: number | null;
  expiresAt?: Date | null;
  createdBy: string;
}

function infoOf(t: EnrolmentToken, now = Date.now()): EnrolmentTokenInfo {
  const { token_hash: _, ...rest } = t;
  const usesLeft = t.max_uses === null ? null : Math.max(0, t.max_uses - t.uses);
  return {
    ...rest,
    uses_left: usesLeft,
    usable: !t.revoked_at && (t.expires_at === null || t.expires_at.getTime() > now) && usesLeft !== 0,
  };
}

/**
 * Makes an enrolment token: `vge_` and 32 random bytes (base64url), returned
 * this once; the SHA-256 and the first 8 characters are kept.
 * @throws EnrolmentError (invalid) for a bad name, limit or expiry; (exists) for a name taken
 */
export async function createEnrolmentToken(
  db: Kysely<Database>,
  input: EnrolmentTokenInput,
): Promise<{ token: string; info: EnrolmentTokenInfo }> {
  const name = input.name.trim();
  if (name === '' || name.length > 100) throw new EnrolmentError('invalid', 'name: an enrolment token needs a name of 1 to 100 characters');
  if (input.maxUses != null && (!Number.isInteger(input.maxUses) || input.maxUses < 1))
    throw new EnrolmentError('invalid', 'max_uses: a whole number of hosts, 1 or more (or none for no limit)');
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now())
    throw new EnrolmentError('invalid', 'expires_at: an enrolment token cannot expire in the past');
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const row = await db
    .insertInto('enrolment_tokens')
    .values({
      name,
      token_hash: secretHash(token),
      prefix: token.slice(0, 8),
      labels: JSON.stringify(input.labels ?? {}),
      require_approval: input.requireApproval ?? false,
      max_uses: input.maxUses ?? null,
      expires_at: input.expiresAt ?? null,
      created_by: input.createdBy,
    })
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new EnrolmentError('exists', `an enrolment token named "${name}" exists already; pick another name`);
  return { token, info: infoOf(row) };
}

/** Every enrolment token, newest first, with its uses left and whether it can still enrol a host. */
export async function listEnrolmentTokens(db: Kysely<Database>): Promise<EnrolmentTokenInfo[]> {
  const now = Date.now();
  return (await db.selectFrom('enrolment_tokens').selectAll().orderBy('id', 'desc').execute()).map((t) => infoOf(t, now));
}

/** Revokes a token (kept, listed as revoked; the hosts it enrolled stay). @returns it, or null when there is no such token */
export async function revokeEnrolmentToken(db: Kysely<Database>, id: number): Promise<EnrolmentTokenInfo | null> {
  const row = await db
    .updateTable('enrolment_tokens')
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? infoOf(row) : null;
}

/** A verified enrolment request (core's verifyHostMessage and enrolClaims), and the token sent with it. */
export interface EnrolRequest {
  /** The enrolment token from `Authorization: Bearer`; not needed when the key is a known host's. */
  token?: string;
  thumbprint: string;
  jwk: Record<string, string>;
  jti: string;
  /** Until when the request's `jti` must be remembered. */
  jtiExpiresAt: Date;
  claims: EnrolClaims;
  /** The metrics URL of a host that connects out, given its target id (the console's relay). */
  relayUrl: (targetId: number) => string;
}

/** What an enrolment did. */
export interface EnrolResult {
  target: Target;
  /** Created now, or found by its key (a restart). */
  created: boolean;
  /** The name asked for, when another host had it. */
  conflict?: string;
  /** The token it used (null on a restart: a known key uses none). */
  tokenId: number | null;
  tokenName: string | null;
}

/**
 * Enrols a host, in one transaction:
 * 1. the request's `jti` is remembered until it expires; seen before → refused (`replayed`);
 * 2. a key already known is that host: its URL, labels and metadata are updated
 *    (a restart, a changed label); no token is needed or used;
 * 3. a new key needs a usable token (locked while used, so two hosts racing for
 *    its last use cannot both have it); the host gets the token's labels under
 *    its own, its own scrape credential, and the name it asked for, or
 *    `<name>-2`, `-3`… when another host has that name (never that host's record);
 *    a token requiring approval makes it pending (and paused: nothing scrapes it).
 * @throws EnrolmentError saying what was wrong (token missing, unknown, revoked, expired, used up; replayed)
 */
export async function enrolHost(db: Kysely<Database>, req: EnrolRequest): Promise<EnrolResult> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('enrolment_nonces').where('expires_at', '<', new Date()).execute();
    const fresh = await trx
      .insertInto('enrolment_nonces')
      .values({ jti: req.jti, expires_at: req.jtiExpiresAt })
      .onConflict((oc) => oc.column('jti').doNothing())
      .returning('jti')
      .executeTakeFirst();
    if (!fresh)
      throw new EnrolmentError('replayed', 'this signed request was used before (a replay); the exporter signs a new one each time');
    const c = req.claims;
    const known = await trx.selectFrom('targets').selectAll().where('key_thumbprint', '=', req.thumbprint).forUpdate().executeTakeFirst();
    if (known) {
      const tokenLabels = known.enrolment_token_id
        ? ((await trx.selectFrom('enrolment_tokens').select('labels').where('id', '=', known.enrolment_token_id).executeTakeFirst())
            ?.labels ?? {})
        : {};
      const metadata: HostMetadata = {
        ...c.metadata,
        ...(known.metadata.name_conflict ? { name_conflict: known.metadata.name_conflict } : {}),
      };
      const target = await trx
        .updateTable('targets')
        .set({
          url: c.connect ? req.relayUrl(known.id) : (c.url ?? known.url),
          connects_out: c.connect,
          labels: JSON.stringify({ ...tokenLabels, ...(c.labels ?? {}) }),
          metadata: JSON.stringify(metadata),
          enrolled_at: new Date(),
        })
        .where('id', '=', known.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { target, created: false, tokenId: null, tokenName: null };
    }
    if (!req.token)
      throw new EnrolmentError(
        'token_missing',
        'this host is not enrolled yet: set VIGIL_ENROL_TOKEN to an enrolment token (vigil enrol-tokens add)',
      );
    const token = await trx
      .selectFrom('enrolment_tokens')
      .selectAll()
      .where('token_hash', '=', secretHash(req.token))
      .forUpdate()
      .executeTakeFirst();
    if (!token)
      throw new EnrolmentError('token_unknown', 'the enrolment token is not one this console made; ask an admin for a current one');
    if (token.revoked_at)
      throw new EnrolmentError('token_revoked', `the enrolment token "${token.name}" was revoked; ask an admin for another`);
    if (token.expires_at && token.expires_at.getTime() <= Date.now())
      throw new EnrolmentError(
        'token_expired',
        `the enrolment token "${token.name}" expired at ${token.expires_at.toISOString()}; ask an admin for another`,
      );
    if (token.max_uses !== null && token.uses >= token.max_uses)
      throw new EnrolmentError(
        'token_used_up',
        `the enrolment token "${token.name}" has enrolled its ${token.max_uses} host${token.max_uses === 1 ? '' : 's'} already; ask an admin for another`,
      );
    if (!c.connect && !c.url)
      throw new EnrolmentError(
        'invalid',
        'url: say how the scraper reaches this host (VIGIL_ADVERTISE_URL), or connect out (VIGIL_CONNECT=1)',
      );
    const name = await freeName(trx, c.name);
    const metadata: HostMetadata = { ...c.metadata, ...(name === c.name ? {} : { name_conflict: c.name }) };
    const inserted = await trx
      .insertInto('targets')
      .values({
        name,
        url: c.url ?? 'http://connecting.invalid/metrics',
        labels: JSON.stringify({ ...token.labels, ...(c.labels ?? {}) }),
        source: 'enrolment',
        token: `vgs_${randomBytes(32).toString('base64url')}`,
        key_thumbprint: req.thumbprint,
        public_key: JSON.stringify(req.jwk),
        metadata: JSON.stringify(metadata),
        pending_approval: token.require_approval,
        paused: token.require_approval,
        connects_out: c.connect,
        enrolment_token_id: token.id,
        enrolled_at: new Date(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const target = c.connect
      ? await trx
          .updateTable('targets')
          .set({ url: req.relayUrl(inserted.id) })
          .where('id', '=', inserted.id)
          .returningAll()
          .executeTakeFirstOrThrow()
      : inserted;
    await trx.updateTable('enrolment_tokens').set({ uses: sql`uses + 1`, last_used_at: new Date() }).where('id', '=', token.id).execute();
    return { target, created: true, ...(name === c.name ? {} : { conflict: c.name }), tokenId: token.id, tokenName: token.name };
  });
}

/** `name`, or the first of `name-2`, `name-3`… no target has (cut to 63 characters). */
async function freeName(db: Kysely<Database>, name: string): Promise<string> {
  const base = name.slice(0, 58);
  const taken = new Set(
    (
      await db
        .selectFrom('targets')
        .select('name')
        .where((eb) => eb.or([eb('name', '=', name), eb('name', 'like', `${base.replace(/[\\%_]/g, (ch) => `\\${ch}`)}-%`)]))
        .execute()
    ).map((t) => t.name),
  );
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

/** The enrolled host with this key thumbprint, or undefined. */
export async function targetByThumbprint(db: Kysely<Database>, thumbprint: string): Promise<Target | undefined> {
  return db.selectFrom('targets').selectAll().where('key_thumbprint', '=', thumbprint).executeTakeFirst();
}

/** What the console's relay keeps of each connected host, for these ids (those removed are missing). */
export async function relayedTargets(
  db: Kysely<Database>,
  ids: readonly number[],
): Promise<Pick<Target, 'id' | 'name' | 'key_thumbprint' | 'connects_out' | 'token' | 'timeout_seconds'>[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('targets')
    .select(['id', 'name', 'key_thumbprint', 'connects_out', 'token', 'timeout_seconds'])
    .where('id', 'in', [...ids])
    .execute();
}

/**
 * Remembers a signed message's `jti` until it expires.
 * @returns false when it was seen before (a replay)
 */
export async function rememberNonce(db: Kysely<Database>, jti: string, expiresAt: Date): Promise<boolean> {
  const row = await db
    .insertInto('enrolment_nonces')
    .values({ jti, expires_at: expiresAt })
    .onConflict((oc) => oc.column('jti').doNothing())
    .returning('jti')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Approves a pending host: no longer pending, resumed (state `unknown`, so the
 * scraper takes it), with an `approved` event naming who.
 * @returns the target before and after, or null when there is no such target
 */
export async function approveTarget(db: Kysely<Database>, id: number, by: string): Promise<{ before: Target; after: Target } | null> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('targets').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!before) return null;
    if (!before.pending_approval) return { before, after: before };
    const now = new Date();
    const after = await trx
      .updateTable('targets')
      .set({ pending_approval: false, paused: false, state: 'unknown', state_changed_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('events')
      .values({
        target_id: id,
        time: now,
        type: 'approved',
        from_state: before.state,
        to_state: 'unknown',
        message: `${before.name} approved by ${by}`,
      })
      .execute();
    return { before, after };
  });
}
