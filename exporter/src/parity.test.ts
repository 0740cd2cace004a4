/**
 * Vigil's exporter beside Debian's node_exporter on the same machine: every
 * node_* name node_exporter exposes here, Vigil exposes too, with the same
 * label keys and type, and a stable set of values agree.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { parseFamilies, type ScrapedFamily } from '@vigil/core/exposition';
import { silentLogger } from '@vigil/core/log';
import { FIXTURES, freePort, hasCommand, requireCommand, until } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DISK_EXCLUDE } from './collectors/diskstats.js';
import { loadExporterConfig } from './config.js';
import { type RunningExporter, startExporter } from './server.js';

const NODE_EXPORTER = 'prometheus-node-exporter';
const TEXTFILES = path.join(FIXTURES, 'textfile/good');

/**
 * The deliberate exceptions: node_exporter's names Vigil does not expose, and why.
 * Matched as name prefixes.
 */
export const NOT_IN_VIGIL: readonly { prefix: string; reason: string }[] = [
  { prefix: 'node_exporter_build_info', reason: 'describes the node_exporter binary itself' },
  // Collectors node_exporter has for hardware and filesystems a self-hoster's fleet rarely
  // has; none answers on the project's machines, so none could be matched against it here.
  { prefix: 'node_bcache_', reason: 'bcache collector not implemented' },
  { prefix: 'node_bonding_', reason: 'bonding collector not implemented' },
  { prefix: 'node_btrfs_', reason: 'btrfs collector not implemented' },
  { prefix: 'node_cpu_frequency_', reason: 'cpufreq collector not implemented (no cpufreq in VMs)' },
  { prefix: 'node_cpu_scaling_', reason: 'cpufreq collector not implemented (no cpufreq in VMs)' },
  { prefix: 'node_dmi_', reason: 'dmi collector not implemented' },
  { prefix: 'node_edac_', reason: 'edac collector not implemented' },
  { prefix: 'node_fibrechannel_', reason: 'fibrechannel collector not implemented' },
  { prefix: 'node_infiniband_', reason: 'infiniband collector not implemented' },
  { prefix: 'node_ipvs_', reason: 'ipvs collector not implemented' },
  { prefix: 'node_md_', reason: 'mdadm collector not implemented' },
  { prefix: 'node_nfs_', reason: 'nfs collector not implemented' },
  { prefix: 'node_nfsd_', reason: 'nfsd collector not implemented' },
  { prefix: 'node_nvme_', reason: 'nvme collector not implemented' },
  { prefix: 'node_power_supply_', reason: 'powersupplyclass collector not implemented' },
  { prefix: 'node_rapl_', reason: 'rapl collector not implemented' },
  { prefix: 'node_schedstat_', reason: 'schedstat collector not implemented' },
  { prefix: 'node_systemd_', reason: "systemd collector (on in Debian's build, off upstream): needs D-Bus; not implemented" },
  { prefix: 'node_tape_', reason: 'tapestats collector not implemented' },
  { prefix: 'node_xfs_', reason: 'xfs collector not implemented' },
  { prefix: 'node_zfs_', reason: 'zfs collector not implemented' },
];

/** Series whose values must agree at the same moment (matching label sets compared; see `sameSeries`). */
const STABLE = [
  'node_memory_MemTotal_bytes',
  'node_memory_SwapTotal_bytes',
  'node_boot_time_seconds',
  'node_filefd_maximum',
  'node_entropy_pool_size_bits',
  'node_network_mtu_bytes',
  'node_network_iface_id',
  'node_network_address_assign_type',
  'node_network_info',
  'node_network_receive_nohandler_total',
  'node_os_info',
  'node_os_version',
  'node_uname_info',
  'node_time_zone_offset_seconds',
  'node_time_clocksource_current_info',
  'node_timex_tick_seconds',
  'node_timex_status',
  'node_timex_sync_status',
  'node_selinux_enabled',
  'node_disk_info',
  'node_filesystem_size_bytes',
  'node_filesystem_files',
  'node_nf_conntrack_entries_limit',
  'node_textfile_scrape_error',
  'node_textfile_mtime_seconds',
  'apt_upgrades_pending',
  'backup_duration_seconds',
  'backup_size_bytes',
  'node_directory_size_bytes',
];

const labelKeys = (f: ScrapedFamily) => [...new Set(f.samples.map((s) => Object.keys(s.labels).sort().join(',')))].sort();
const seriesKey = (s: { name: string; labels: Record<string, string> }) =>
  `${s.name}{${Object.entries(s.labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

describe('parity with Debian’s node_exporter on this machine', () => {
  let vigil: RunningExporter;
  let nodeExporter: ChildProcess | undefined;
  let theirs: Map<string, ScrapedFamily>;
  let ours: Map<string, ScrapedFamily>;

  const have = hasCommand(NODE_EXPORTER);
  const need = (ctx: { skip(note: string): void }) => requireCommand(NODE_EXPORTER, 'prometheus-node-exporter', (note) => ctx.skip(note));
  beforeAll(async () => {
    if (!have) return;
    const port = await freePort();
    nodeExporter = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`, `--collector.textfile.directory=${TEXTFILES}`], {
      stdio: 'ignore',
    });
    vigil = await startExporter(
      loadExporterConfig({ VIGIL_EXPORTER_LISTEN: '127.0.0.1:0', VIGIL_TEXTFILE_DIR: TEXTFILES, VIGIL_DISABLED_COLLECTORS: 'containers' }),
      silentLogger(),
    );
    const theirUrl = `http://127.0.0.1:${port}/metrics`;
    await until('node_exporter to answer', 10, async () => (await fetch(theirUrl)).ok);
    // The same moment: both asked at once.
    const [a, b] = await Promise.all([fetch(theirUrl).then((r) => r.text()), fetch(`${vigil.url}/metrics`).then((r) => r.text())]);
    theirs = new Map(parseFamilies(a).map((f) => [f.name, f]));
    ours = new Map(parseFamilies(b).map((f) => [f.name, f]));
  }, 30_000);
  afterAll(async () => {
    nodeExporter?.kill();
    await vigil?.close();
  });

  it('exposes every node_* name node_exporter exposes here, but the documented exceptions', (ctx) => {
    need(ctx);
    const names = [...theirs.keys()].filter((n) => n.startsWith('node_') && theirs.get(n)!.samples.length > 0);
    expect(names.length).toBeGreaterThan(150);
    const missing = names.filter((n) => !ours.has(n) && !NOT_IN_VIGIL.some((e) => n.startsWith(e.prefix)));
    expect(missing).toEqual([]);
  });

  it('gives each shared name the same type and label keys', (ctx) => {
    need(ctx);
    const differ: string[] = [];
    for (const [name, f] of theirs) {
      const mine = ours.get(name);
      if (!mine || f.samples.length === 0) continue;
      if (mine.type !== f.type) differ.push(`${name}: type ${mine.type}, node_exporter ${f.type}`);
      // Collector names differ (Vigil has containers, not bcache); the keys must not.
      if (labelKeys(mine).join(' ') !== labelKeys(f).join(' '))
        differ.push(`${name}: labels ${labelKeys(mine).join(' ')}, node_exporter ${labelKeys(f).join(' ')}`);
    }
    expect(differ).toEqual([]);
  });

  it('agrees on the values of a stable set, series by series', (ctx) => {
    need(ctx);
    let compared = 0;
    const differ: string[] = [];
    for (const name of STABLE) {
      const f = theirs.get(name);
      if (!f) continue; // not on this machine (no conntrack module, no swap…)
      const mine = new Map((ours.get(name)?.samples ?? []).map((s) => [seriesKey(s), s.value]));
      for (const s of f.samples) {
        // Debian's build leaves out lo and /run mounts, upstream and Vigil do not: compare what both have.
        const v = mine.get(seriesKey(s));
        if (v === undefined) {
          // Upstream (and Vigil) leave out zram devices; node_exporter 1.5 did not.
          if (name === 'node_disk_info' && DEFAULT_DISK_EXCLUDE.test(s.labels.device ?? '')) continue;
          if (name === 'node_network_info' || name === 'node_disk_info' || name.startsWith('node_os_') || name.startsWith('node_uname'))
            differ.push(`${seriesKey(s)} missing`);
          continue;
        }
        compared++;
        if (v !== s.value) differ.push(`${seriesKey(s)}: ${v}, node_exporter ${s.value}`);
      }
    }
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThan(40);
  });
});
