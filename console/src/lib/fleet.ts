/**
 * The fleet page's logic, apart from its markup: applying the live stream's
 * events, and filtering, searching and sorting hosts. Pure functions.
 */

import { memoryUsagePercent, rootDiskUsagePercent } from '@vigil/core/figures';
import type { FleetEvent, FleetRowView } from './api.js';

/** A host's state as the fleet shows it: paused above all, else its liveness. */
export type ShownState = FleetRowView['state'] | 'paused';

export function shownState(row: FleetRowView): ShownState {
  return row.paused ? 'paused' : row.state;
}

/** The columns a fleet can be sorted by. */
export const SORT_KEYS = ['name', 'state', 'age', 'cpu', 'memory', 'disk', 'load', 'uptime'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** What the fleet page shows: a search on name and labels, a state, a label `key=value`, a sort, and a facet to group by. */
export interface FleetQuery {
  q: string;
  state: ShownState | '';
  label: string;
  sort: SortKey;
  desc: boolean;
  /** A facet's name (a label, `provider` or `region`) to group by; '' for none. */
  group: string;
}

/**
 * What a host is filtered and grouped by: its labels, and the provider and
 * region an enrolled host said (a label of the same name wins).
 */
export function facetsOf(row: FleetRowView): Record<string, string> {
  return { ...(row.provider ? { provider: row.provider } : {}), ...(row.region ? { region: row.region } : {}), ...row.labels };
}

/** The facet names of a fleet, sorted: what it can be grouped by. */
export function fleetGroupKeys(rows: readonly FleetRowView[]): string[] {
  const keys = new Set<string>();
  for (const r of rows) for (const k of Object.keys(facetsOf(r))) keys.add(k);
  return [...keys].sort();
}

/** Shown hosts in groups by a facet's value (their order kept), groups by value, hosts without it last. */
export function groupRows(rows: readonly FleetRowView[], key: string): { value: string | null; rows: FleetRowView[] }[] {
  if (rows.length === 0) return [];
  if (!key) return [{ value: null, rows: [...rows] }];
  const groups = new Map<string | null, FleetRowView[]>();
  for (const r of rows) {
    const v = facetsOf(r)[key] ?? null;
    const g = groups.get(v);
    if (g) g.push(r);
    else groups.set(v, [r]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
    .map(([value, rows]) => ({ value, rows }));
}

const STATES: readonly ShownState[] = ['down', 'stopped', 'unknown', 'up', 'paused'];

/** The query a page URL's parameters say (unknown values ignored). */
export function fleetQuery(params: URLSearchParams): FleetQuery {
  const state = params.get('state') ?? '';
  const sort = params.get('sort') ?? 'name';
  return {
    q: (params.get('q') ?? '').slice(0, 100),
    state: (STATES as readonly string[]).includes(state) ? (state as ShownState) : '',
    label: (params.get('label') ?? '').slice(0, 200),
    sort: (SORT_KEYS as readonly string[]).includes(sort) ? (sort as SortKey) : 'name',
    desc: params.get('dir') === 'desc',
    group: (params.get('group') ?? '').slice(0, 64),
  };
}

/** The URL parameters of a query (defaults left out), for a shareable link. */
export function queryParams(q: FleetQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (q.q) p.set('q', q.q);
  if (q.state) p.set('state', q.state);
  if (q.label) p.set('label', q.label);
  if (q.sort !== 'name') p.set('sort', q.sort);
  if (q.desc) p.set('dir', 'desc');
  if (q.group) p.set('group', q.group);
  return p;
}

/** The stream's event applied to the rows: a snapshot replaces them, an update replaces, adds and removes hosts. Returns new rows, by name. */
export function applyFleetEvent(rows: readonly FleetRowView[], event: FleetEvent): FleetRowView[] {
  if (event.type === 'snapshot') return [...event.rows];
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const id of event.removed) byId.delete(id);
  for (const r of event.rows) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** How many hosts are in each shown state. */
export function countStates(rows: readonly FleetRowView[]): Record<ShownState, number> {
  const counts: Record<ShownState, number> = { up: 0, down: 0, unknown: 0, stopped: 0, paused: 0 };
  for (const r of rows) counts[shownState(r)]++;
  return counts;
}

/** Every `key=value` label in the fleet, sorted. */
export function fleetLabels(rows: readonly FleetRowView[]): string[] {
  const all = new Set<string>();
  for (const r of rows) for (const [k, v] of Object.entries(facetsOf(r))) all.add(`${k}=${v}`);
  return [...all].sort();
}

/** Whether a host's newest heartbeat is older than two of its intervals (and a few seconds): it has gone quiet. */
export function isStale(row: FleetRowView, now: number): boolean {
  if (!row.heartbeat || row.paused) return false;
  return now - new Date(row.heartbeat.time).getTime() > (2 * row.interval_seconds + 5) * 1000;
}

/** The value a host is sorted by; null sorts last whichever the direction. */
function sortValue(r: FleetRowView, key: SortKey, now: number): number | string | null {
  const f = r.figures;
  switch (key) {
    case 'name':
      return r.name;
    case 'state':
      return STATES.indexOf(shownState(r));
    case 'age':
      return r.heartbeat ? now - new Date(r.heartbeat.time).getTime() : null;
    case 'cpu':
      return f?.cpu_usage_percent ?? null;
    case 'memory':
      return memoryUsagePercent(f?.memory_used_bytes, f?.memory_total_bytes);
    case 'disk':
      return rootDiskUsagePercent(f);
    case 'load':
      return f?.load1 ?? null;
    case 'uptime':
      return f?.uptime_seconds ?? null;
  }
}

/** The hosts a query shows, in its order (ties by name). */
export function filterAndSort(rows: readonly FleetRowView[], q: FleetQuery, now: number): FleetRowView[] {
  const needle = q.q.trim().toLowerCase();
  const eq = q.label.indexOf('=');
  const [lk, lv] = eq > 0 ? [q.label.slice(0, eq), q.label.slice(eq + 1)] : [null, null];
  const shown = rows.filter(
    (r) =>
      (!q.state || shownState(r) === q.state) &&
      (lk === null || facetsOf(r)[lk] === lv) &&
      (!needle || r.name.toLowerCase().includes(needle) || Object.values(r.labels).some((v) => v.toLowerCase().includes(needle))),
  );
  const keyed = shown.map((r) => ({ r, v: sortValue(r, q.sort, now) }));
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) {
      if (a.v !== b.v) return a.v === null ? 1 : -1;
    } else if (a.v !== b.v) {
      const c = a.v < b.v ? -1 : 1;
      return q.desc ? -c : c;
    }
    return a.r.name < b.r.name ? -1 : a.r.name > b.r.name ? 1 : 0;
  });
  return keyed.map((k) => k.r);
}
