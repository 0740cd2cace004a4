import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { arpCollector, parseArp } from './arp.js';
import { CONNTRACK_STATS, conntrackCollector, parseConntrackStat } from './conntrack.js';
import { entropyCollector } from './entropy.js';
import { filefdCollector, parseFileNr } from './filefd.js';
import { NETCLASS_PROPERTIES, netclassCollector, sysfsNumber } from './netclass.js';
import { DEFAULT_NETSTAT_FIELDS, netstatCollector, parseNetstatPairs, parseSnmp6 } from './netstat.js';
import { osCollector, osVersion, parseOsRelease } from './os.js';
import { closeHandles, ParseError, readKeptSync } from './read.js';
import { parseSelinuxConfig, selinuxCollector } from './selinux.js';
import { kernelPageSize, parseSockstat, sockstatCollector } from './sockstat.js';
import { parseSoftnet, softnetCollector } from './softnet.js';
import { textfileCollector } from './textfile.js';
import { localZone, localZoneFile, parseTzif, readClocksources, timeCollector } from './time.js';
import { parseUdpQueues, udpQueuesCollector } from './udp-queues.js';
import { DEFAULT_VMSTAT_FIELDS, parseVmstat, vmstatCollector } from './vmstat.js';

const PROC = path.join(FIXTURES, 'this-host', 'proc');
const fixture = (file: string) => readFileSync(path.join(PROC, file), 'utf8');
const paths = { proc: PROC, sys: '/nonexistent', rootfs: '/nonexistent' };

/** A collector's series as `name value` lines, read plainly from its sink. */
async function series(c: {
  update(sink: MetricSink, signal: AbortSignal): unknown;
}): Promise<Map<string, { type: string; value: number }>> {
  const sink = new MetricSink();
  await c.update(sink, new AbortController().signal);
  const out = new Map<string, { type: string; value: number }>();
  for (const f of sink.families.values()) for (const s of f.values) out.set(f.name, { type: f.type, value: s.value });
  return out;
}

describe('vmstat', () => {
  it('reads every field of this host, and exports node_exporter’s default set, untyped', async () => {
    const text = fixture('vmstat');
    const fields = parseVmstat(text);
    expect(fields).toHaveLength(text.trim().split('\n').length);
    const got = await series(vmstatCollector(paths));
    const expected = text
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([name]) => DEFAULT_VMSTAT_FIELDS.test(name!));
    expect([...got.keys()].sort()).toEqual(expected.map(([n]) => `node_vmstat_${n}`).sort());
    for (const name of ['oom_kill', 'pgfault', 'pgmajfault', 'pgpgin', 'pgpgout', 'pswpin', 'pswpout'])
      expect(got.get(`node_vmstat_${name}`)).toEqual({ type: 'untyped', value: Number(expected.find(([n]) => n === name)![1]) });
  });

  it('takes another field set', async () => {
    const got = await series(vmstatCollector(paths, /^nr_free_pages$/));
    expect([...got.keys()]).toEqual(['node_vmstat_nr_free_pages']);
  });

  it.each(['nr_free_pages\n', 'nr_free_pages lots\n', 'Nr Free 1\n', '<html>\n'])('rejects %j', (text) => {
    expect(() => parseVmstat(text)).toThrow(ParseError);
  });
});

describe('filefd', () => {
  it('reads this host: allocated and maximum', async () => {
    const [allocated, , maximum] = fixture('sys/fs/file-nr').trim().split(/\s+/).map(Number);
    expect(parseFileNr(fixture('sys/fs/file-nr'))).toEqual({ allocated, maximum });
    const got = await series(filefdCollector(paths));
    expect(got.get('node_filefd_allocated')).toEqual({ type: 'gauge', value: allocated });
    expect(got.get('node_filefd_maximum')).toEqual({ type: 'gauge', value: maximum });
  });

  it.each(['', '4212 0', '4212 0 x', '1 2 3 4'])('rejects %j', (text) => {
    expect(() => parseFileNr(text)).toThrow(ParseError);
  });
});

describe('entropy', () => {
  it('reads this host', async () => {
    const got = await series(entropyCollector(paths));
    expect(got.get('node_entropy_available_bits')?.value).toBe(Number(fixture('sys/kernel/random/entropy_avail')));
    expect(got.get('node_entropy_pool_size_bits')?.value).toBe(Number(fixture('sys/kernel/random/poolsize')));
  });

  it('says which file is malformed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-entropy-'));
    try {
      mkdirSync(path.join(dir, 'sys/kernel/random'), { recursive: true });
      writeFileSync(path.join(dir, 'sys/kernel/random/entropy_avail'), 'plenty\n');
      writeFileSync(path.join(dir, 'sys/kernel/random/poolsize'), '256\n');
      await expect(series(entropyCollector({ ...paths, proc: dir }))).rejects.toThrow(/entropy_avail line 1: expected a whole number/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sockstat', () => {
  it('reads this host: sockets used, and each protocol’s counts with mem in bytes', async () => {
    const v4 = parseSockstat(fixture('net/sockstat'));
    const tcp = v4.protocols.find((p) => p.protocol === 'TCP')!;
    expect(tcp.fields.map(([k]) => k)).toEqual(['inuse', 'orphan', 'tw', 'alloc', 'mem']);
    const got = await series(sockstatCollector(paths));
    expect(got.get('node_sockstat_sockets_used')?.value).toBe(v4.socketsUsed);
    for (const [k, v] of tcp.fields) expect(got.get(`node_sockstat_TCP_${k}`)).toEqual({ type: 'gauge', value: v });
    expect(got.get('node_sockstat_TCP_mem_bytes')?.value).toBe(tcp.fields.find(([k]) => k === 'mem')![1] * kernelPageSize());
    expect(got.get('node_sockstat_FRAG_memory')).toBeDefined();
    const v6 = parseSockstat(fixture('net/sockstat6'), 'net/sockstat6');
    expect(v6.socketsUsed).toBeNull();
    expect(got.get('node_sockstat_TCP6_inuse')?.value).toBe(v6.protocols.find((p) => p.protocol === 'TCP6')!.fields[0]![1]);
  });

  it('knows the page size of the kernel it runs on', () => {
    const kb = /KernelPageSize:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps', 'utf8'))![1]!;
    expect(kernelPageSize()).toBe(Number(kb) * 1024);
  });

  it.each(['TCP: inuse\n', 'TCP: inuse five\n', 'TCP inuse 5\n', 'TCP: 5 inuse\n', '<html>\n'])('rejects %j', (text) => {
    expect(() => parseSockstat(text)).toThrow(ParseError);
  });
});

describe('conntrack', () => {
  it('reads this host: entries, the limit, and the per-CPU statistics summed', async () => {
    const got = await series(conntrackCollector(paths));
    expect(got.get('node_nf_conntrack_entries')?.value).toBe(Number(fixture('sys/net/netfilter/nf_conntrack_count')));
    expect(got.get('node_nf_conntrack_entries_limit')?.value).toBe(Number(fixture('sys/net/netfilter/nf_conntrack_max')));
    for (const column of Object.keys(CONNTRACK_STATS)) expect(got.has(`node_nf_conntrack_stat_${column}`)).toBe(true);
  });

  it('sums each column over the CPUs, in hexadecimal', () => {
    const sums = parseConntrackStat('entries  found insert_failed\n0000000a 00000001 000000ff\n0000000a 00000002 00000001\n');
    expect(Object.fromEntries(sums)).toEqual({ entries: 20, found: 3, insert_failed: 256 });
  });

  it('has no series, and no failure, without the nf_conntrack module', async () => {
    expect((await series(conntrackCollector({ ...paths, proc: '/nonexistent' }))).size).toBe(0);
  });

  it.each(['', 'entries found\n0000000a\n', 'entries found\n0000000a zz\n', '1 2\n3 4\n'])('rejects %j', (text) => {
    expect(() => parseConntrackStat(text)).toThrow(ParseError);
  });
});

describe('softnet', () => {
  it('reads this host: a row per CPU, labelled by the CPU index the kernel gives', async () => {
    const text = fixture('net/softnet_stat');
    const lines = text.trim().split('\n');
    const rows = parseSoftnet(text);
    expect(rows).toHaveLength(lines.length);
    for (const [i, line] of lines.entries()) {
      const c = line.trim().split(/\s+/);
      expect(rows[i]).toMatchObject({
        cpu: String(c.length >= 13 ? Number.parseInt(c[12]!, 16) : i),
        processed: Number.parseInt(c[0]!, 16),
        dropped: Number.parseInt(c[1]!, 16),
        timesSqueezed: Number.parseInt(c[2]!, 16),
      });
    }
    const sink = new MetricSink();
    await softnetCollector(paths).update(sink, new AbortController().signal);
    expect(sink.families.get('node_softnet_processed_total')).toMatchObject({
      type: 'counter',
      values: rows.map((r) => ({ labels: { cpu: r.cpu }, value: r.processed })),
    });
    expect(sink.families.get('node_softnet_times_squeezed_total')?.help).toBe('Number of times processing packets ran out of quota');
  });

  it('reads an older kernel’s rows: no CPU index, no backlog', () => {
    const rows = parseSoftnet(
      '0000000a 00000001 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000003 00000000\n'.repeat(2),
    );
    expect(rows.map((r) => r.cpu)).toEqual(['0', '1']);
    expect(rows[0]).toMatchObject({
      processed: 10,
      dropped: 1,
      timesSqueezed: 2,
      cpuCollision: 0,
      receivedRps: 3,
      flowLimitCount: 0,
      backlogLen: null,
    });
  });

  it.each(['0000000a 00000001\n', '0000000a 0000000g 00000002\n', '<html>\n'])('rejects %j', (text) => {
    expect(() => parseSoftnet(text)).toThrow(ParseError);
  });
});

describe('arp', () => {
  it('counts this host’s entries per device', async () => {
    const text = fixture('net/arp');
    const entries = text.trim().split('\n').slice(1);
    const byDevice = parseArp(text);
    expect([...byDevice.values()].reduce((a, b) => a + b, 0)).toBe(entries.length);
    const sink = new MetricSink();
    await arpCollector(paths).update(sink, new AbortController().signal);
    expect(sink.families.get('node_arp_entries')?.values).toEqual([...byDevice].map(([device, n]) => ({ labels: { device }, value: n })));
  });

  it('counts several devices', () => {
    const text =
      'IP address       HW type     Flags       HW address            Mask     Device\n' +
      '10.0.0.1 0x1 0x2 aa:bb:cc:dd:ee:01 * eth0\n10.0.0.2 0x1 0x2 aa:bb:cc:dd:ee:02 * eth0\n10.1.0.1 0x1 0x2 aa:bb:cc:dd:ee:03 * wlan0\n';
    expect(Object.fromEntries(parseArp(text))).toEqual({ eth0: 2, wlan0: 1 });
  });

  it.each(['', '10.0.0.1 0x1 0x2 aa:bb * eth0\n', 'IP address HW type Flags HW address Mask Device\n10.0.0.1 0x1 eth0\n'])(
    'rejects %j',
    (text) => {
      expect(() => parseArp(text)).toThrow(ParseError);
    },
  );
});

describe('os', () => {
  const rootfs = path.join(FIXTURES, 'this-host', 'rootfs');
  it('reads this host’s os-release into node_os_info and node_os_version', async () => {
    const text = readFileSync(path.join(rootfs, 'etc/os-release'), 'utf8');
    const os = parseOsRelease(text);
    const plain = (key: string) => /^[A-Z_]+=("?)(.*)\1$/m.exec(text.split('\n').find((l) => l.startsWith(`${key}=`)) ?? '')?.[2] ?? '';
    expect(os.PRETTY_NAME).toBe(plain('PRETTY_NAME'));
    expect(os.ID).toBe(plain('ID'));
    const sink = new MetricSink();
    await osCollector({ ...paths, rootfs }).update(sink, new AbortController().signal);
    const [info] = sink.families.get('node_os_info')!.values;
    expect(info).toMatchObject({
      value: 1,
      labels: { id: plain('ID'), name: plain('NAME'), version_id: plain('VERSION_ID'), build_id: '' },
    });
    expect(Object.keys(info!.labels)).toHaveLength(12);
    expect(sink.families.get('node_os_version')!.values[0]).toEqual({
      labels: { id: plain('ID'), id_like: plain('ID_LIKE'), name: plain('NAME') },
      value: Number(plain('VERSION_ID').split('.').slice(0, 2).join('.')),
    });
  });

  it('unquotes as os-release(5) says', () => {
    expect(parseOsRelease('# comment\nNAME="Ubuntu \\"LTS\\""\nID=ubuntu\nVARIANT=\'Server Edition\'\n\n')).toEqual({
      NAME: 'Ubuntu "LTS"',
      ID: 'ubuntu',
      VARIANT: 'Server Edition',
    });
  });

  it.each([
    ['12', 12],
    ['22.04', 22.04],
    ['22.04.3', 22.04],
    ['rolling', null],
    [undefined, null],
  ])('VERSION_ID %j is version %j', (v, want) => {
    expect(osVersion(v)).toBe(want);
  });

  it.each(['NAME "x"\n', 'name=x\n', 'NAME="unterminated\n'])('rejects %j', (text) => {
    expect(() => parseOsRelease(text)).toThrow(ParseError);
  });

  it('says where it looked when there is no os-release', async () => {
    await expect(osCollector({ ...paths, rootfs: '/nonexistent' }).update(new MetricSink(), new AbortController().signal)).rejects.toThrow(
      /no os-release: neither \/nonexistent\/etc\/os-release nor \/nonexistent\/usr\/lib\/os-release exists/,
    );
  });
});

describe('udp_queues', () => {
  const header = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
  it('reads this host: each family’s queues summed, v4 and v6', async () => {
    const sink = new MetricSink();
    await udpQueuesCollector(paths).update(sink, new AbortController().signal);
    const v4 = parseUdpQueues(fixture('net/udp'));
    const v6 = parseUdpQueues(fixture('net/udp6'), 'net/udp6');
    expect(sink.families.get('node_udp_queues')?.values).toEqual([
      { labels: { ip: 'v4', queue: 'tx' }, value: v4.tx },
      { labels: { ip: 'v4', queue: 'rx' }, value: v4.rx },
      { labels: { ip: 'v6', queue: 'tx' }, value: v6.tx },
      { labels: { ip: 'v6', queue: 'rx' }, value: v6.rx },
    ]);
  });

  it('sums the hexadecimal queues of every socket', () => {
    const row = (q: string) => `  1: 00000000:0044 00000000:0000 07 ${q} 00:00000000 00000000     0        0 1234 2 0000000000000000 0\n`;
    expect(parseUdpQueues(header + row('00000010:00000100') + row('00000001:00000001'))).toEqual({ tx: 17, rx: 257 });
  });

  it.each([`${header}  1: 00000000:0044 00000000:0000 07 zz:00\n`, `${header}  1: 00000000:0044\n`])('rejects %j', (text) => {
    expect(() => parseUdpQueues(text)).toThrow(ParseError);
  });
});

describe('netclass', () => {
  const sys = path.join(FIXTURES, 'this-host', 'sys');
  const read = (device: string, file: string) => {
    try {
      return readFileSync(path.join(sys, 'class/net', device, file), 'utf8').trim();
    } catch {
      return null;
    }
  };

  it('reads each device of this host: info labels, and every property it has', async () => {
    const sink = new MetricSink();
    await netclassCollector({ ...paths, sys }).update(sink, new AbortController().signal);
    const devices = ['eth0', 'ifb0', 'ifb1', 'lo'];
    expect(sink.families.get('node_network_info')?.values.map((v) => v.labels)).toEqual(
      devices.map((device) => ({
        address: read(device, 'address') ?? '',
        broadcast: read(device, 'broadcast') ?? '',
        device,
        duplex: read(device, 'duplex') ?? '',
        ifalias: read(device, 'ifalias') ?? '',
        operstate: read(device, 'operstate') ?? '',
      })),
    );
    for (const [file, name, counter] of NETCLASS_PROPERTIES) {
      const expected = devices
        .filter((d) => read(d, file) !== null)
        .map((device) => ({ labels: { device }, value: sysfsNumber(read(device, file)!)! * (file === 'speed' ? 125_000 : 1) }));
      const family = sink.families.get(`node_network_${name}`);
      expect(family?.values ?? [], name).toEqual(expected);
      if (family) expect(family.type).toBe(counter ? 'counter' : 'gauge');
    }
    expect(sink.families.get('node_network_mtu_bytes')?.help).toBe('Network device property: mtu_bytes');
  });

  it('does not ask again for a file the kernel refused until the device changes state', async () => {
    // A copy of this host's tree where eth0 is down: its kernel refuses speed (EINVAL).
    const tree = mkdtempSync(path.join(tmpdir(), 'netclass-'));
    cpSync(path.join(sys, 'class/net'), path.join(tree, 'class/net'), { recursive: true, dereference: true });
    const dev = path.join(tree, 'class/net/eth0');
    let up = false;
    const asked: string[] = [];
    const readKept = (p: string) => {
      const text = readKeptSync(p);
      if (text !== undefined && p.endsWith('eth0/speed')) {
        asked.push(p);
        if (!up) throw Object.assign(new Error('EINVAL: invalid argument, read'), { code: 'EINVAL' });
      }
      return text;
    };
    const collector = netclassCollector({ ...paths, sys: tree }, readKept);
    const speed = async () => {
      const sink = new MetricSink();
      await collector.update(sink, new AbortController().signal);
      return sink.families.get('node_network_speed_bytes')?.values.find((v) => v.labels.device === 'eth0')?.value;
    };
    try {
      writeFileSync(path.join(dev, 'operstate'), 'down\n');
      writeFileSync(path.join(dev, 'speed'), '10000\n');
      // The first scrape opens every file (no kept handle yet), the second is refused.
      expect(await speed()).toBe(10_000 * 125_000);
      expect(await speed()).toBeUndefined();
      expect(asked).toHaveLength(1);
      // Refused in the same state: not asked again, still no series.
      expect(await speed()).toBeUndefined();
      expect(await speed()).toBeUndefined();
      expect(asked).toHaveLength(1);
      // The link comes up (its operstate moves): asked again, and answered.
      up = true;
      writeFileSync(path.join(dev, 'operstate'), 'up\n');
      expect(await speed()).toBe(10_000 * 125_000);
      expect(asked).toHaveLength(2);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it.each([
    ['1500', 1500],
    ['-1', -1],
    ['0x1003', 4099],
    ['0x0', 0],
    ['unknown', null],
    ['', null],
  ])('reads the sysfs number %j as %j', (text, want) => {
    expect(sysfsNumber(text)).toBe(want);
  });
});

describe('time', () => {
  const sys = path.join(FIXTURES, 'this-host', 'sys');
  const clock = path.join(sys, 'devices/system/clocksource/clocksource0');

  it('reads this host’s clock sources, and the time', async () => {
    const available = readFileSync(path.join(clock, 'available_clocksource'), 'utf8').trim().split(' ');
    const current = readFileSync(path.join(clock, 'current_clocksource'), 'utf8').trim();
    expect(await readClocksources(sys)).toEqual([{ device: '0', available, current }]);
    const sink = new MetricSink();
    await timeCollector({ ...paths, sys }, () => 1_800_000_000_500).update(sink, new AbortController().signal);
    expect(sink.families.get('node_time_seconds')?.values).toEqual([{ labels: {}, value: 1_800_000_000.5 }]);
    expect(sink.families.get('node_time_clocksource_available_info')?.values).toEqual(
      available.map((clocksource) => ({ labels: { clocksource, device: '0' }, value: 1 })),
    );
    expect(sink.families.get('node_time_clocksource_current_info')?.values).toEqual([
      { labels: { clocksource: current, device: '0' }, value: 1 },
    ]);
  });

  it('has no clock source series where sysfs has none', async () => {
    const sink = new MetricSink();
    await timeCollector({ ...paths, sys: '/nonexistent' }).update(sink, new AbortController().signal);
    expect([...sink.families.keys()]).toEqual(['node_time_seconds', 'node_time_zone_offset_seconds']);
  });
});

describe('netstat', () => {
  it('reads this host’s netstat, snmp and snmp6, and exports node_exporter’s default fields, untyped', async () => {
    const pairs = (file: string) => {
      const lines = fixture(file).trim().split('\n');
      const out: [string, number][] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const [proto, ...names] = lines[i]!.split(' ');
        const values = lines[i + 1]!.split(' ').slice(1);
        for (const [k, n] of names.entries()) out.push([`${proto!.slice(0, -1)}_${n}`, Number(values[k])]);
      }
      return out;
    };
    expect(parseNetstatPairs(fixture('net/netstat'), 'net/netstat')).toEqual(pairs('net/netstat'));
    expect(parseNetstatPairs(fixture('net/snmp'), 'net/snmp')).toEqual(pairs('net/snmp'));
    const six = parseSnmp6(fixture('net/snmp6'));
    expect(six.find(([k]) => k === 'Ip6_InReceives')).toBeDefined();
    expect(six.find(([k]) => k === 'Udp6_InDatagrams')).toBeDefined();

    const sink = new MetricSink();
    await netstatCollector(paths).update(sink, new AbortController().signal);
    const expected = [...pairs('net/netstat'), ...pairs('net/snmp'), ...six].filter(([k]) => DEFAULT_NETSTAT_FIELDS.test(k));
    expect([...sink.families.keys()]).toEqual(expected.map(([k]) => `node_netstat_${k}`));
    for (const name of ['Tcp_RetransSegs', 'Tcp_CurrEstab', 'TcpExt_ListenOverflows', 'Udp_RcvbufErrors', 'Ip6_InOctets']) {
      const f = sink.families.get(`node_netstat_${name}`)!;
      expect(f.type).toBe('untyped');
      expect(f.values[0]!.value).toBe(expected.find(([k]) => k === name)![1]);
    }
    expect(sink.families.get('node_netstat_Tcp_RetransSegs')!.help).toBe('Statistic TcpRetransSegs.');
  });

  it.each([
    ['Tcp: A B\nTcp: 1\n', 'net/snmp'],
    ['Tcp: A B\nUdp: 1 2\n', 'net/snmp'],
    ['Tcp: A B\n', 'net/snmp'],
    ['Tcp: A\nTcp: x\n', 'net/snmp'],
  ])('rejects %j', (text, file) => {
    expect(() => parseNetstatPairs(text, file)).toThrow(ParseError);
  });

  it.each(['IpInReceives 1\n', 'Ip6InReceives\n', 'Ip6InReceives many\n'])('rejects the snmp6 line %j', (text) => {
    expect(() => parseSnmp6(text)).toThrow(ParseError);
  });
});

describe('time zone', () => {
  const withTz = async <T>(tz: string | undefined, f: () => Promise<T>): Promise<T> => {
    const saved = process.env.TZ;
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    try {
      return await f();
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  };
  it.each([
    ['UTC', '2026-11-25T12:00:00Z', 'UTC', 0],
    ['Europe/Berlin', '2026-11-25T12:00:00Z', 'CET', 3600],
    ['Europe/Berlin', '2026-07-01T12:00:00Z', 'CEST', 7200],
    ['America/New_York', '2026-11-25T12:00:00Z', 'EST', -18000],
    ['Asia/Kolkata', '2026-11-25T12:00:00Z', 'IST', 19800],
    ['Australia/Lord_Howe', '2026-11-25T12:00:00Z', '+11', 39600],
    ['Europe/Berlin', '1990-07-01T12:00:00Z', 'CEST', 7200],
    ['Asia/Kolkata', '1943-06-01T12:00:00Z', '+0630', 23400],
  ])('names %s at %s as Go does (%s, %i s)', async (tz, at, name, offset) => {
    const zone = await withTz(tz, () => localZone(new Date(at), tz));
    expect(zone).toEqual({ name, offsetSeconds: offset });
  });

  it('is UTC without a zone file, and for TZ="" or TZ=UTC', async () => {
    expect(await localZone(new Date(), '')).toMatchObject({ name: 'UTC' });
    expect(await localZone(new Date(), ':UTC')).toMatchObject({ name: 'UTC' });
    expect(await withTz('UTC', () => localZone(new Date(), '/nonexistent/zone'))).toEqual({ name: 'UTC', offsetSeconds: 0 });
    expect(localZoneFile(undefined)).toBe('/etc/localtime');
    expect(localZoneFile(':Europe/Paris')).toBe('/usr/share/zoneinfo/Europe/Paris');
  });

  it('refuses a file that is not TZif, and a truncated one, naming the problem', () => {
    expect(() => parseTzif(Buffer.from('# not a zone file, long enough to hold a TZif header.....'))).toThrow(
      /not a TZif time zone file: no TZif header/,
    );
    const berlin = readFileSync('/usr/share/zoneinfo/Europe/Berlin');
    expect(() => parseTzif(berlin.subarray(0, 200))).toThrow(/truncated/);
    const z = parseTzif(berlin);
    expect(z.footer).toBe('CET-1CEST,M3.5.0,M10.5.0/3');
    expect(new Set(z.types.map((t) => t.abbreviation))).toEqual(new Set(['LMT', 'CEST', 'CET', 'CEMT']));
  });

  it('adds node_time_zone_offset_seconds to the time collector', async () => {
    const got = await withTz('Asia/Kolkata', () => series(timeCollector(paths, () => Date.parse('2026-11-25T12:00:00Z'))));
    expect(got.get('node_time_zone_offset_seconds')).toEqual({ type: 'gauge', value: 19800 });
  });
});

describe('selinux', () => {
  it('is 0 without selinuxfs (this host), with no mode series', async () => {
    const got = await series(selinuxCollector({ proc: PROC, sys: path.join(FIXTURES, 'this-host/sys'), rootfs: '/nonexistent' }));
    expect([...got]).toEqual([['node_selinux_enabled', { type: 'gauge', value: 0 }]]);
  });

  it('reads the current and configured modes of a Fedora-like host, and refuses a malformed enforce file', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'vigil-selinux-'));
    try {
      mkdirSync(path.join(root, 'sys/fs/selinux'), { recursive: true });
      mkdirSync(path.join(root, 'etc/selinux'), { recursive: true });
      writeFileSync(path.join(root, 'sys/fs/selinux/enforce'), '0');
      writeFileSync(
        path.join(root, 'etc/selinux/config'),
        '# This file controls the state of SELinux on the system.\nSELINUX=enforcing\nSELINUXTYPE=targeted\n',
      );
      const c = selinuxCollector({ proc: PROC, sys: path.join(root, 'sys'), rootfs: root });
      const got = await series(c);
      expect(got.get('node_selinux_enabled')!.value).toBe(1);
      expect(got.get('node_selinux_current_mode')!.value).toBe(0);
      expect(got.get('node_selinux_config_mode')!.value).toBe(1);
      expect(parseSelinuxConfig('SELINUX=disabled\n')).toBe(-1);
      expect(parseSelinuxConfig('SELINUX=sometimes\n')).toBeNull();
      writeFileSync(path.join(root, 'sys/fs/selinux/enforce'), 'on');
      closeHandles((p) => p.startsWith(root));
      await expect(series(c)).rejects.toThrow(/fs\/selinux\/enforce line 1: expected a whole number, got "on"/);
      closeHandles((p) => p.startsWith(root));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('textfile without a directory', () => {
  it('reports node_textfile_scrape_error 0 only, as node_exporter does by default', async () => {
    expect([...(await series(textfileCollector(undefined)))]).toEqual([['node_textfile_scrape_error', { type: 'gauge', value: 0 }]]);
  });
});
