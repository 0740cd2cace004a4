/**
 * Enrolment: the use cases behind `/api/v1/enrolment-tokens` (admins make,
 * list and revoke the tokens new hosts enrol with), `/api/v1/enrol` (a host's
 * exporter enrols itself, or leaves), and the approval of pending hosts.
 */
import {
  ENROL_TYPES,
  type EnrolAnswer,
  EnrolError,
  enrolClaims,
  type HostMessage,
  signEnrolAnswer,
  verifyHostMessage,
} from '@vigil/core/enrolment';
import { targetLabels } from '@vigil/core/target-schema';
import {
  approveTarget,
  createEnrolmentToken,
  EnrolmentError,
  enrolHost,
  getTarget,
  listEnrolmentTokens,
  rememberNonce,
  removeTargetById,
  revokeEnrolmentToken,
  roleAtLeast,
  targetByThumbprint,
  writeAudit,
} from '@vigil/db';
import * as z from 'zod/mini';
import type { EnrolmentTokenView, NewEnrolmentTokenView, TargetView } from '$lib/api';
import { type Actor, recordAudit } from './actor';
import { consoleConfig } from './config';
import { getDb } from './db';
import { ApiError, notFound, validate } from './errors';
import { log } from './log';
import { enrolmentTokenView, targetView } from './views';

/** `POST /api/v1/enrolment-tokens`: a name, labels for its hosts, whether they wait for approval, a use limit, an expiry. */
export const newEnrolmentToken = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  labels: z.optional(targetLabels),
  require_approval: z.optional(z.boolean()),
  max_uses: z.optional(z.nullable(z.int().check(z.gte(1), z.lte(1_000_000)))),
  /** An ISO time with its offset, or null for none. */
  expires_at: z.optional(z.nullable(z.iso.datetime({ offset: true }))),
});

/** Every enrolment token, newest first, with its uses left (never the token). */
export async function listEnrolmentTokenViews(): Promise<EnrolmentTokenView[]> {
  return (await listEnrolmentTokens(await getDb())).map(enrolmentTokenView);
}

/** Makes a token, audited as `enrolment_token.create`; the token is in the answer, this once. @throws ApiError 422, 409 */
export async function makeEnrolmentToken(actor: Actor, input: unknown): Promise<NewEnrolmentTokenView> {
  const t = validate(newEnrolmentToken, input);
  const { token, info } = await createEnrolmentToken(await getDb(), {
    name: t.name,
    labels: t.labels,
    requireApproval: t.require_approval,
    maxUses: t.max_uses,
    expiresAt: t.expires_at ? new Date(t.expires_at) : null,
    createdBy: actor.user.name,
  });
  const view = enrolmentTokenView(info);
  await recordAudit(actor, 'enrolment_token.create', 'enrolment_token', info.id, { after: view });
  return { ...view, token };
}

/** Revokes a token (the hosts it enrolled stay), audited as `enrolment_token.revoke`. @throws ApiError 404 */
export async function revokeEnrolmentTokenById(actor: Actor, id: number): Promise<EnrolmentTokenView> {
  const r = await revokeEnrolmentToken(await getDb(), id);
  if (!r) notFound('enrolment token', id);
  const view = enrolmentTokenView(r);
  await recordAudit(actor, 'enrolment_token.revoke', 'enrolment_token', id, { after: view });
  return view;
}

function mustBeAdmin(actor: Actor): void {
  if (!roleAtLeast(actor.user.role, 'admin'))
    throw new ApiError(403, 'forbidden', `approving and rejecting hosts needs the admin role; ${actor.user.name} is ${actor.user.role}`);
}

/** Approves a pending host: it is scraped from now on. Audited as `target.approve`. @throws ApiError 404, 409 when it is not pending */
export async function approveHost(actor: Actor, id: number): Promise<TargetView> {
  mustBeAdmin(actor);
  const r = await approveTarget(await getDb(), id, actor.user.name);
  if (!r) notFound('target', id);
  if (!r.before.pending_approval) throw new ApiError(409, 'conflict', `${r.before.name} is not waiting for approval`);
  const view = targetView(r.after);
  await recordAudit(actor, 'target.approve', 'target', id, { before: targetView(r.before), after: view });
  return view;
}

/** Rejects a pending host: its target is removed (it may enrol again only with a usable token). Audited as `target.reject`. @throws ApiError 404, 409 */
export async function rejectHost(actor: Actor, id: number): Promise<TargetView> {
  mustBeAdmin(actor);
  const db = await getDb();
  const t = await getTarget(db, id);
  if (!t) notFound('target', id);
  if (!t.pending_approval) throw new ApiError(409, 'conflict', `${t.name} is not waiting for approval; remove it instead`);
  await removeTargetById(db, id);
  const view = targetView(t);
  await recordAudit(actor, 'target.reject', 'target', id, { before: view });
  return view;
}

/** The answer to an enrolment: the fields, and the same signed by the console's key when it has one (its exporters may pin its public key). */
export type EnrolResponse = EnrolAnswer & { signed: string | null };

const REFUSAL_STATUS: Record<string, number> = {
  token_missing: 401,
  token_unknown: 401,
  token_revoked: 403,
  token_expired: 403,
  token_used_up: 403,
  replayed: 409,
  invalid: 422,
  not_enrolled: 404,
  malformed: 400,
  signature: 401,
  expired: 401,
  key: 401,
  claims: 422,
};

function refused(err: EnrolError | EnrolmentError): ApiError {
  return new ApiError(REFUSAL_STATUS[err.code] ?? 400, err.code, err.message);
}

/** The signed message an exporter sends as `Authorization: Bearer <jws>`, verified. @throws ApiError 400/401 */
async function hostMessage(authorization: string | null, typ: string): Promise<HostMessage> {
  const jws = authorization?.toLowerCase().startsWith('bearer ') ? authorization.slice(7).trim() : '';
  if (!jws)
    throw new ApiError(
      401,
      'unauthenticated',
      'send the signed request as Authorization: Bearer <jws> (vigil-exporter does this by itself)',
    );
  try {
    return await verifyHostMessage(jws, typ);
  } catch (e) {
    if (e instanceof EnrolError) throw refused(e);
    throw e;
  }
}

const enrolBody = z.object({ enrolment_token: z.optional(z.string().check(z.maxLength(200))) });

/**
 * A host's exporter enrols (or, at each start, enrols again): the signed
 * request is checked (signature by the key in it, lifetime, `typ`), its claims
 * validated, and db's enrolHost decides (replay, known key, token). Each
 * enrolment with a token is audited as `host.enrol` in the token's name.
 * @throws ApiError 400 (malformed), 401 (signature, expired, token missing or unknown), 403 (token revoked, expired, used up), 409 (replayed), 422 (claims)
 */
export async function enrol(authorization: string | null, body: unknown, clientAddress: string | null): Promise<EnrolResponse> {
  const msg = await hostMessage(authorization, ENROL_TYPES.enrol);
  const claims = validate(enrolClaims, msg.claims);
  const { enrolment_token } = validate(enrolBody, body ?? {});
  const config = consoleConfig();
  let r: Awaited<ReturnType<typeof enrolHost>>;
  try {
    r = await enrolHost(await getDb(), {
      token: enrolment_token,
      thumbprint: msg.thumbprint,
      jwk: msg.jwk,
      jti: msg.jti,
      jtiExpiresAt: msg.expiresAt,
      claims,
      relayUrl: (id) => `${config.internalUrl}/api/v1/connect/${id}/metrics`,
    });
  } catch (e) {
    if (e instanceof EnrolmentError) {
      log().warn({ code: e.code, name: claims.name, clientAddress }, 'enrolment refused');
      throw refused(e);
    }
    throw e;
  }
  const t = r.target;
  if (r.created)
    await writeAudit(await getDb(), {
      user: { id: null, name: `enrolment token "${r.tokenName}"` },
      action: 'host.enrol',
      objectType: 'target',
      objectId: t.id,
      clientAddress,
      after: targetView(t),
    });
  log().info(
    { target: t.name, id: t.id, created: r.created, pending: t.pending_approval, connect: t.connects_out, conflict: r.conflict },
    r.created ? 'host enrolled' : 'host enrolled again',
  );
  const answer: EnrolAnswer = {
    target_id: t.id,
    name: t.name,
    credential: t.token ?? '',
    pending: t.pending_approval,
    created: r.created,
    ...(r.conflict ? { conflict: r.conflict } : {}),
  };
  const key = await consoleSigningKey();
  return { ...answer, signed: key ? await signEnrolAnswer(key, msg.thumbprint, answer) : null };
}

/**
 * A host leaves (`vigil-exporter deregister`): a signed `deregister` message
 * from its own key removes its target, audited as `host.deregister`.
 * @throws ApiError 401 (signature), 404 (no host with that key), 409 (replayed)
 */
export async function deregister(authorization: string | null, clientAddress: string | null): Promise<TargetView> {
  const msg = await hostMessage(authorization, ENROL_TYPES.deregister);
  const db = await getDb();
  if (!(await rememberNonce(db, msg.jti, msg.expiresAt))) throw new ApiError(409, 'replayed', 'this signed request was used before');
  const t = await targetByThumbprint(db, msg.thumbprint);
  if (!t) throw new ApiError(404, 'not_enrolled', 'no host is enrolled with this key; nothing to remove');
  await removeTargetById(db, t.id);
  const view = targetView(t);
  await writeAudit(db, {
    user: { id: null, name: `host ${t.name}` },
    action: 'host.deregister',
    objectType: 'target',
    objectId: t.id,
    clientAddress,
    before: view,
  });
  log().info({ target: t.name, id: t.id }, 'host deregistered');
  return view;
}

let signingKey: Promise<import('jose').CryptoKey | null> | null = null;

/** The console's Ed25519 key (VIGIL_CONSOLE_PRIVATE_KEY, the one that signs terminal tickets), or null when it has none. */
function consoleSigningKey(): Promise<import('jose').CryptoKey | null> {
  signingKey ??= (async () => {
    const pem = consoleConfig().terminalKeyPem;
    if (!pem) return null;
    const { importTicketPrivateKey } = await import('@vigil/core/pty');
    return importTicketPrivateKey(pem);
  })();
  return signingKey;
}
