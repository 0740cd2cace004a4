/**
 * Who a use case acts for: the signed-in user or API key's owner, and the
 * client address the audit log records. Built once per request by
 * {@link actorOf}; use cases take it instead of the request.
 */
import type { RequestEvent } from '@sveltejs/kit';
import { type Account, writeAudit } from '@vigil/db';
import { principalOf } from './api';
import { clientAddress } from './auth';
import { getDb } from './db';
import { endStreamsOf } from './live';

/** The user a request acts as, and where it came from. */
export interface Actor {
  user: Account;
  clientAddress: string | null;
}

/** The request's actor; the policy in hooks.server.ts has made sure there is one. @throws ApiError 401 */
export function actorOf(event: RequestEvent): Actor {
  return { user: principalOf(event).user, clientAddress: clientAddress(event) };
}

/**
 * Writes an audit row in the actor's name. A change to a user or to an API key
 * ends that user's open fleet streams, which reconnect only if still allowed.
 */
export async function recordAudit(
  actor: Actor,
  action: string,
  objectType: string,
  objectId: string | number | null,
  change: { before?: unknown; after?: unknown } = {},
): Promise<void> {
  await writeAudit(await getDb(), { user: actor.user, action, objectType, objectId, clientAddress: actor.clientAddress, ...change });
  if (objectType === 'user' && objectId !== null) endStreamsOf(Number(objectId));
  const owner = (change.after ?? change.before) as { user_id?: unknown } | undefined;
  if (objectType === 'api_key' && typeof owner?.user_id === 'number') endStreamsOf(owner.user_id);
}
