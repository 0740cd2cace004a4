/**
 * API keys: the use cases the API and the account and admin pages all call.
 * A key acts with its owner's role, is shown once, and may be revoked by its
 * owner or an admin; another user's key is not told to exist.
 */
import { createApiKey, listApiKeys, revokeApiKey, roleAtLeast } from '@vigil/db';
import * as z from 'zod/mini';
import type { ApiKeyView, NewApiKeyView } from '$lib/api';
import { type Actor, recordAudit } from './actor';
import { getDb } from './db';
import { ApiError, validate } from './errors';
import { apiKeyView } from './views';

/** A new key: `{name, expires_at?}` (an ISO time with its offset, or null for none). */
export const newApiKey = z.strictObject({ name: z.string(), expires_at: z.optional(z.nullable(z.iso.datetime({ offset: true }))) });

/** The actor's own keys, or everyone's (`all`, admins only). @throws ApiError 403 */
export async function listApiKeyViews(actor: Actor, { all = false }: { all?: boolean } = {}): Promise<ApiKeyView[]> {
  if (all && !roleAtLeast(actor.user.role, 'admin')) throw new ApiError(403, 'forbidden', 'only an admin may list other users’ keys');
  return (await listApiKeys(await getDb(), all ? {} : { userId: actor.user.id })).map(apiKeyView);
}

/** Makes a key for the actor, audited as `api_key.create`; the key is in the answer, this once. @throws ApiError 422; AccountError 422 */
export async function makeApiKey(actor: Actor, input: unknown): Promise<NewApiKeyView> {
  const k = validate(newApiKey, input);
  const { key, info } = await createApiKey(await getDb(), actor.user.id, k.name, k.expires_at ? new Date(k.expires_at) : null);
  const view = apiKeyView(info);
  await recordAudit(actor, 'api_key.create', 'api_key', info.id, { after: view });
  return { ...view, key };
}

/**
 * Revokes a key, audited as `api_key.revoke`: the actor's own, or anyone's for
 * an admin (unless `ownOnly`: the account page revokes one's own only).
 * @throws ApiError 404 for no such key of theirs
 */
export async function revokeKey(actor: Actor, id: number, { ownOnly = false }: { ownOnly?: boolean } = {}): Promise<ApiKeyView> {
  const admin = !ownOnly && roleAtLeast(actor.user.role, 'admin');
  const r = await revokeApiKey(await getDb(), id, admin ? undefined : actor.user.id);
  if (!r) throw new ApiError(404, 'not_found', `no API key with id ${id} of yours`);
  const after = apiKeyView(r.after);
  await recordAudit(actor, 'api_key.revoke', 'api_key', id, { before: apiKeyView(r.before), after });
  return after;
}
