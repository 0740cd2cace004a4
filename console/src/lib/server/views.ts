/**
 * How the console shows what the database holds: the API's bodies and the pages'
 * data, built here once (wire types in `$lib/api`). Secrets never leave: URLs'
 * passwords and channels' paths are masked, tokens become `has_token`, password
 * hashes and keys are never read into a view.
 */
import { maskChannelUrl } from '@vigil/core/channels';
import { maskUrl } from '@vigil/core/secrets';
import type {
  Account,
  ApiKeyInfo,
  AuditEntry,
  EnrolmentTokenInfo,
  Heartbeat,
  NotificationChannel,
  Target,
  TargetInventory,
} from '@vigil/db';
import type { ApiKeyView, AuditView, ChannelView, EnrolmentTokenView, HeartbeatView, InventoryView, TargetView, UserView } from '$lib/api';

/** A heartbeat as the API shows it. */
export function heartbeatView(h: Heartbeat): HeartbeatView {
  return {
    time: h.time.toISOString(),
    up: h.up,
    duration_seconds: h.duration_seconds,
    error: h.error,
    cpu_usage_percent: h.cpu_usage_percent,
    memory_used_bytes: h.memory_used_bytes,
    memory_total_bytes: h.memory_total_bytes,
    disk_used_bytes: h.disk_used_bytes,
    disk_total_bytes: h.disk_total_bytes,
    disk_avail_bytes: h.disk_avail_bytes,
    load1: h.load1,
    uptime_seconds: h.uptime_seconds,
    pty_sessions: h.pty_sessions,
    net_receive_bytes_per_second: h.net_receive_bytes_per_second,
    net_transmit_bytes_per_second: h.net_transmit_bytes_per_second,
    net_interfaces: h.net_interfaces,
    disk_read_bytes_per_second: h.disk_read_bytes_per_second,
    disk_written_bytes_per_second: h.disk_written_bytes_per_second,
    disk_reads_per_second: h.disk_reads_per_second,
    disk_writes_per_second: h.disk_writes_per_second,
    temperature_celsius: h.temperature_celsius,
    container_figures: h.container_figures,
    probe_results: h.probe_results,
  };
}

/** A target as the API shows it: its URL's password masked (the API, and so a browser, never holds it). */
export function targetView(t: Target, heartbeat: Heartbeat | null = null): TargetView {
  return {
    id: t.id,
    name: t.name,
    url: maskUrl(t.url),
    interval_seconds: t.interval_seconds,
    timeout_seconds: t.timeout_seconds,
    labels: t.labels,
    source: t.source,
    state: t.state,
    paused: t.paused,
    state_changed_at: t.state_changed_at.toISOString(),
    created_at: t.created_at.toISOString(),
    has_token: t.token !== null,
    pty_url: t.pty_url,
    heartbeat: heartbeat ? heartbeatView(heartbeat) : null,
    metadata: t.metadata ?? {},
    pending_approval: t.pending_approval ?? false,
    connects_out: t.connects_out ?? false,
    enrolled_at: t.enrolled_at?.toISOString() ?? null,
  };
}

/** An enrolment token as the API lists it. */
export function enrolmentTokenView(t: EnrolmentTokenInfo): EnrolmentTokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    labels: t.labels,
    require_approval: t.require_approval,
    max_uses: t.max_uses,
    uses: t.uses,
    uses_left: t.uses_left,
    expires_at: t.expires_at?.toISOString() ?? null,
    revoked_at: t.revoked_at?.toISOString() ?? null,
    last_used_at: t.last_used_at?.toISOString() ?? null,
    created_by: t.created_by,
    created_at: t.created_at.toISOString(),
    usable: t.usable,
  };
}

/** A target's stored inventory as the API shows it; empty when none was stored. */
export function inventoryView(inv: TargetInventory | null): InventoryView {
  return {
    scraped_at: inv?.scraped_at.toISOString() ?? null,
    changed_at: inv?.changed_at.toISOString() ?? null,
    containers: inv?.containers ?? [],
    services: inv?.services ?? [],
  };
}

/** A channel as the API shows it: its URL masked (a webhook's path is its secret). */
export function channelView(c: NotificationChannel): ChannelView {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    url: maskChannelUrl(c.kind, c.url),
    enabled: c.enabled,
    created_at: c.created_at.toISOString(),
    matchers: c.matchers,
    min_severity: c.min_severity,
    group_by: c.group_by,
    group_wait_seconds: c.group_wait_seconds,
    group_interval_seconds: c.group_interval_seconds,
    repeat_interval_seconds: c.repeat_interval_seconds,
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A user as the API shows it (never a password hash). */
export function userView(u: Account, twoFactor?: boolean): UserView {
  return {
    id: u.id,
    name: u.name,
    role: u.role,
    created_at: u.created_at.toISOString(),
    password_changed_at: u.password_changed_at.toISOString(),
    ...(twoFactor === undefined ? {} : { two_factor: twoFactor }),
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

/** An audit row as the API shows it (ids of bigserial as strings). */
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
