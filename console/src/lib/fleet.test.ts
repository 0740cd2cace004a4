import { describe, expect, it } from 'vitest';
import type { FleetRowView } from './api.js';
import {
  applyFleetEvent,
  countStates,
  facetsOf,
  filterAndSort,
  fleetGroupKeys,
  fleetLabels,
  fleetQuery,
  groupRows,
  isStale,
  queryParams,
} from './fleet.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function row(
  id: number,
  name: string,
  over: Partial<FleetRowView> = {},
  figures: Partial<NonNullable<FleetRowView['figures']>> | null = {},
): FleetRowView {
  return {
    id,
    name,
    url: `http://${name}/metrics`,
    labels: {},
    state: 'up',
    paused: false,
    state_changed_at: ago(600),
    interval_seconds: 15,
    provider: null,
    region: null,
    pending_approval: false,
    connects_out: false,
    heartbeat: { time: ago(5), up: true, error: null },
    figures:
      figures === null
        ? null
        : {
            time: ago(5),
            cpu_usage_percent: null,
            memory_used_bytes: null,
            memory_total_bytes: null,
            disk_used_bytes: null,
            disk_total_bytes: null,
            disk_avail_bytes: null,
            load1: null,
            uptime_seconds: null,
            pty_sessions: null,
            net_receive_bytes_per_second: null,
            net_transmit_bytes_per_second: null,
            disk_read_bytes_per_second: null,
            disk_written_bytes_per_second: null,
            disk_reads_per_second: null,
            disk_writes_per_second: null,
            temperature_celsius: null,
            ...figures,
          },
    ...over,
  };
}

const fleet = [
  row(1, 'pi-1', { labels: { rack: 'a' } }, { cpu_usage_percent: 20, memory_used_bytes: 1, memory_total_bytes: 4, load1: 0.5 }),
  row(
    2,
    'pi-2',
    { labels: { rack: 'b' }, state: 'down', heartbeat: { time: ago(100), up: false, error: 'refused' } },
    { cpu_usage_percent: 90 },
  ),
  row(3, 'vps', { paused: true, heartbeat: null }, null),
  row(4, 'lab', { labels: { rack: 'a', role: 'db' } }, { cpu_usage_percent: 5, memory_used_bytes: 3, memory_total_bytes: 4 }),
];
const names = (rows: FleetRowView[]) => rows.map((r) => r.name);
const q = (s: string) => fleetQuery(new URLSearchParams(s));

describe('fleet filters and sorting', () => {
  it('searches names and label values, filters by state (paused apart) and by label', () => {
    expect(names(filterAndSort(fleet, q(''), NOW))).toEqual(['lab', 'pi-1', 'pi-2', 'vps']);
    expect(names(filterAndSort(fleet, q('q=PI'), NOW))).toEqual(['pi-1', 'pi-2']);
    expect(names(filterAndSort(fleet, q('q=db'), NOW))).toEqual(['lab']);
    expect(names(filterAndSort(fleet, q('state=up'), NOW))).toEqual(['lab', 'pi-1']);
    expect(names(filterAndSort(fleet, q('state=paused'), NOW))).toEqual(['vps']);
    expect(names(filterAndSort(fleet, q('label=rack%3Da'), NOW))).toEqual(['lab', 'pi-1']);
    expect(names(filterAndSort(fleet, q('label=rack%3Da&q=pi'), NOW))).toEqual(['pi-1']);
  });

  it('sorts by any column either way, unknown figures last both ways, ties by name', () => {
    expect(names(filterAndSort(fleet, q('sort=cpu&dir=desc'), NOW))).toEqual(['pi-2', 'pi-1', 'lab', 'vps']);
    expect(names(filterAndSort(fleet, q('sort=cpu'), NOW))).toEqual(['lab', 'pi-1', 'pi-2', 'vps']);
    expect(names(filterAndSort(fleet, q('sort=memory&dir=desc'), NOW))).toEqual(['lab', 'pi-1', 'pi-2', 'vps']);
    expect(names(filterAndSort(fleet, q('sort=state'), NOW))).toEqual(['pi-2', 'lab', 'pi-1', 'vps']);
    expect(names(filterAndSort(fleet, q('sort=age&dir=desc'), NOW))).toEqual(['pi-2', 'lab', 'pi-1', 'vps']);
    expect(names(filterAndSort(fleet, q('sort=name&dir=desc'), NOW))).toEqual(['vps', 'pi-2', 'pi-1', 'lab']);
    for (const sort of ['load', 'uptime', 'disk']) expect(filterAndSort(fleet, q(`sort=${sort}`), NOW)).toHaveLength(4);
  });

  it('reads and writes the URL, ignoring what it does not know', () => {
    expect(q('state=bogus&sort=__proto__&q=x')).toEqual({ q: 'x', state: '', label: '', sort: 'name', desc: false, group: '' });
    expect(queryParams(q('q=pi&state=down&label=rack%3Da&sort=cpu&dir=desc&group=region')).toString()).toBe(
      'q=pi&state=down&label=rack%3Da&sort=cpu&dir=desc&group=region',
    );
    expect(queryParams(q('')).toString()).toBe('');
  });

  it('counts states, lists labels, and says when a heartbeat has gone stale', () => {
    expect(countStates(fleet)).toEqual({ up: 2, down: 1, unknown: 0, stopped: 0, paused: 1 });
    expect(fleetLabels(fleet)).toEqual(['rack=a', 'rack=b', 'role=db']);
    expect(fleet.map((r) => isStale(r, NOW))).toEqual([false, true, false, false]);
  });
});

describe('applyFleetEvent', () => {
  it('takes a snapshot whole, and an update host by host', () => {
    const snap = applyFleetEvent([], { type: 'snapshot', rows: fleet, scrapers: 1, server_time: NOW });
    expect(names(snap)).toEqual(['pi-1', 'pi-2', 'vps', 'lab']);
    const next = applyFleetEvent(snap, {
      type: 'update',
      rows: [row(2, 'pi-2', { state: 'up' }), row(9, 'new')],
      removed: [3],
      scrapers: 1,
      server_time: NOW,
    });
    expect(next.map((r) => [r.name, r.state])).toEqual([
      ['lab', 'up'],
      ['new', 'up'],
      ['pi-1', 'up'],
      ['pi-2', 'up'],
    ]);
  });

  it('filters and groups by provider, region and labels, a label winning over what a host said', () => {
    const hosts = [
      row(1, 'a1', { provider: 'hetzner', region: 'fsn1', labels: { role: 'web' } }),
      row(2, 'a2', { provider: 'hetzner', region: 'nbg1' }),
      row(3, 'b1', { provider: 'aws', region: 'eu-west-1', labels: { role: 'db' } }),
      row(4, 'home', { labels: { region: 'attic' } }),
      row(5, 'bare'),
    ];
    expect(facetsOf(hosts[3]!)).toEqual({ region: 'attic' });
    expect(fleetGroupKeys(hosts)).toEqual(['provider', 'region', 'role']);
    expect(fleetLabels(hosts)).toContain('provider=hetzner');
    expect(names(filterAndSort(hosts, q('label=provider%3Dhetzner'), NOW))).toEqual(['a1', 'a2']);
    expect(names(filterAndSort(hosts, q('label=region%3Dattic'), NOW))).toEqual(['home']);
    const byProvider = groupRows(filterAndSort(hosts, q(''), NOW), 'provider');
    expect(byProvider.map((g) => [g.value, names(g.rows)])).toEqual([
      ['aws', ['b1']],
      ['hetzner', ['a1', 'a2']],
      [null, ['bare', 'home']],
    ]);
    expect(groupRows(hosts, '').map((g) => g.rows.length)).toEqual([5]);
    expect(groupRows([], 'provider')).toEqual([]);
  });
});
