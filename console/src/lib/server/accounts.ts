import type { Account, ApiKeyInfo, AuditEntry } from '@vigil/db';
import type { ApiKeyView, AuditView, UserView } from '$lib/api';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A user as the API shows it (never a password hash). */
export function userView(u: Account): UserView {
  return {
    id: u.id,
    name: u.name,
    role: u.role,
    created_at: u.created_at.toISOString(),
    password_changed_at: u.password_changed_at.toISOString(),
  };
}

/** An API key as the API lists it (never the key or its hash). */
export function apiKeyView(k: ApiKeyInfo): ApiKeyView {
  return {
    id: k.id,
    user_id: k.user_id,
    user_name: k.user_name,
    name: k.name,
    prefix: k.prefix,
    created_at: k.created_at.toISOString(),
    expires_at: iso(k.expires_at),
    revoked_at: iso(k.revoked_at),
    last_used_at: iso(k.last_used_at),
  };
}

export function auditView(a: AuditEntry): AuditView {
  return {
    id: String(a.id),
    time: a.time.toISOString(),
    user_id: a.user_id,
    user_name: a.user_name,
    action: a.action,
    object_type: a.object_type,
    object_id: a.object_id,
    client_address: a.client_address,
    before: a.before,
    after: a.after,
  };
}
