import { describe, expect, it } from 'vitest';
import { parseExposition } from './exposition.js';
import { deriveFigures } from './heartbeat.js';
import { counterSnapshot, hostTemperature, isHostDisk, isHostInterface, NO_RATES, ratesBetween } from './rates.js';

/** A lookup over a parsed exposition text. */
function lookup(text: string) {
  const samples = parseExposition(text);
  return (name: string) => {
    const found = samples.filter((s) => s.name === name);
    return found.length ? found : undefined;
  };
}

/** A node_exporter-like body with counters scaled by `k` (so two bodies give known rates). */
function body(k: number): string {
  return [
    `node_network_receive_bytes_total{device="eth0"} ${1000 * k}`,
    `node_network_transmit_bytes_total{device="eth0"} ${500 * k}`,
    `node_network_receive_bytes_total{device="wlan0"} ${200 * k}`,
    `node_network_transmit_bytes_total{device="wlan0"} ${100 * k}`,
    // Counted again elsewhere or never leaving the host: left out.
    `node_network_receive_bytes_total{device="lo"} ${99999 * k}`,
    `node_network_transmit_bytes_total{device="lo"} ${99999 * k}`,
    `node_network_receive_bytes_total{device="veth12ab"} ${7777 * k}`,
    `node_network_transmit_bytes_total{device="veth12ab"} ${7777 * k}`,
    `node_network_receive_bytes_total{device="docker0"} ${5555 * k}`,
    `node_network_transmit_bytes_total{device="docker0"} ${5555 * k}`,
    `node_disk_read_bytes_total{device="sda"} ${4096 * k}`,
    `node_disk_written_bytes_total{device="sda"} ${8192 * k}`,
    `node_disk_reads_completed_total{device="sda"} ${10 * k}`,
    `node_disk_writes_completed_total{device="sda"} ${20 * k}`,
    `node_disk_read_bytes_total{device="nvme0n1"} ${1024 * k}`,
    `node_disk_written_bytes_total{device="nvme0n1"} ${0}`,
    `node_disk_reads_completed_total{device="nvme0n1"} ${1 * k}`,
    `node_disk_writes_completed_total{device="nvme0n1"} ${0}`,
    // A device-mapper volume on sda: its I/O is sda's again.
    `node_disk_read_bytes_total{device="dm-0"} ${4096 * k}`,
    `node_disk_written_bytes_total{device="dm-0"} ${8192 * k}`,
    `node_disk_reads_completed_total{device="dm-0"} ${10 * k}`,
    `node_disk_writes_completed_total{device="dm-0"} ${20 * k}`,
    `container_cpu_usage_seconds_total{cpu="total",name="web",id="/docker/a"} ${0.5 * k}`,
    `container_cpu_usage_seconds_total{cpu="cpu0",name="db",id="/docker/b"} ${0.25 * k}`,
    `container_cpu_usage_seconds_total{cpu="cpu1",name="db",id="/docker/b"} ${0.25 * k}`,
    `container_memory_working_set_bytes{name="web",id="/docker/a"} 1048576`,
    `container_memory_working_set_bytes{name="db",id="/docker/b"} 2097152`,
    `container_network_receive_bytes_total{name="web",interface="eth0",id="/docker/a"} ${300 * k}`,
    `container_network_receive_bytes_total{name="web",interface="eth1",id="/docker/a"} ${100 * k}`,
    `container_network_transmit_bytes_total{name="web",interface="eth0",id="/docker/a"} ${50 * k}`,
    `container_network_transmit_bytes_total{name="web",interface="eth1",id="/docker/a"} ${50 * k}`,
  ].join('\n');
}

describe('host interfaces and disks', () => {
  it.each([
    ['eth0', true],
    ['enp3s0', true],
    ['wlan0', true],
    ['wg0', true],
    ['lo', false],
    ['veth1a2b', false],
    ['docker0', false],
    ['br-5f1e', false],
    ['virbr0', false],
    ['cni0', false],
    ['flannel.1', false],
    ['', false],
  ])('counts interface %j: %s', (name, counted) => expect(isHostInterface(name)).toBe(counted));

  it.each([
    ['sda', true],
    ['nvme0n1', true],
    ['mmcblk0', true],
    ['vda', true],
    ['dm-0', false],
    ['md127', false],
    ['loop3', false],
    ['zram0', false],
    ['sr0', false],
  ])('counts disk %j: %s', (name, counted) => expect(isHostDisk(name)).toBe(counted));
});

describe('ratesBetween', () => {
  it('gives per-second rates between two scrapes, summed over host interfaces and disks', () => {
    const a = counterSnapshot(lookup(body(1)), 100);
    const b = counterSnapshot(lookup(body(3)), 110); // every counter doubled its growth over 10 s
    const memory = new Map([
      ['web', 1048576],
      ['db', 2097152],
    ]);
    const r = ratesBetween(a, b, memory);
    expect(r.interfaces).toEqual({ eth0: [200, 100], wlan0: [40, 20] });
    expect(r.netReceiveBytesPerSecond).toBe(240);
    expect(r.netTransmitBytesPerSecond).toBe(120);
    expect(r.diskReadBytesPerSecond).toBe(((4096 + 1024) * 2) / 10);
    expect(r.diskWrittenBytesPerSecond).toBe(Math.round((8192 * 2) / 10)); // whole bytes
    expect(r.diskReadsPerSecond).toBe(((10 + 1) * 2) / 10);
    expect(r.diskWritesPerSecond).toBe((20 * 2) / 10);
    // web: 1 cpu-second over 10 s = 10 % of a core; rx (400 × 2) / 10, tx (100 × 2) / 10.
    // db: per-CPU samples summed, 1 cpu-second over 10 s.
    expect(r.containers).toEqual({ web: [10, 1048576, 80, 20], db: [10, 2097152, null, null] });
  });

  it('gives no rate for a counter that went back (a reboot, a restarted container), and keeps the others', () => {
    const a = counterSnapshot(lookup(body(5)), 100);
    const b = counterSnapshot(lookup(body(1)), 115);
    const r = ratesBetween(a, b);
    expect(r.netReceiveBytesPerSecond).toBeNull();
    expect(r.interfaces).toBeNull();
    expect(r.diskReadBytesPerSecond).toBeNull();
    expect(r.containers).toEqual({ web: [null, null, null, null], db: [null, null, null, null] });
    // One interface reset (a re-plugged USB adapter): only it is left out.
    const c = counterSnapshot(lookup(body(2).replace('device="wlan0"} 400', 'device="wlan0"} 1')), 130);
    const d = ratesBetween(counterSnapshot(lookup(body(1)), 100), c);
    expect(Object.keys(d.interfaces ?? {})).toEqual(['eth0']);
    expect(d.netReceiveBytesPerSecond).toBe(Math.round(1000 / 30));
  });

  it('has no rates without a previous scrape or without time between them, but keeps container memory', () => {
    const b = counterSnapshot(lookup(body(2)), 100);
    expect(ratesBetween(undefined, counterSnapshot(lookup('node_load1 1'), 0))).toBe(NO_RATES);
    const first = ratesBetween(undefined, b, new Map([['web', 5]]));
    expect(first.containers).toEqual({ web: [null, 5, null, null], db: [null, null, null, null] });
    expect(first.netReceiveBytesPerSecond).toBeNull();
    expect(ratesBetween(b, b).diskReadBytesPerSecond).toBeNull();
  });

  it('gives null disk rates when the target has no disk series, and none for a new interface', () => {
    const a = counterSnapshot(
      lookup('node_network_receive_bytes_total{device="eth0"} 1\nnode_network_transmit_bytes_total{device="eth0"} 1'),
      0,
    );
    const b = counterSnapshot(
      lookup(
        'node_network_receive_bytes_total{device="eth0"} 11\nnode_network_transmit_bytes_total{device="eth0"} 21\nnode_network_receive_bytes_total{device="eth1"} 5\nnode_network_transmit_bytes_total{device="eth1"} 5',
      ),
      10,
    );
    expect(a.disk).toBeNull();
    const r = ratesBetween(a, b);
    expect(r.interfaces).toEqual({ eth0: [1, 2] });
    expect(r.diskReadBytesPerSecond).toBeNull();
    expect(r.containers).toBeNull();
  });

  it('keeps at most 64 interfaces', () => {
    const lines: string[] = [];
    for (let i = 0; i < 100; i++)
      lines.push(`node_network_receive_bytes_total{device="eth${i}"} 1`, `node_network_transmit_bytes_total{device="eth${i}"} 1`);
    expect(Object.keys(counterSnapshot(lookup(lines.join('\n')), 0).net)).toHaveLength(64);
  });
});

describe('hostTemperature', () => {
  it('is the hottest sensor or thermal zone, leaving out impossible readings', () => {
    const get = lookup(
      [
        'node_hwmon_temp_celsius{chip="platform_coretemp_0",sensor="temp1"} 48.25',
        'node_hwmon_temp_celsius{chip="platform_coretemp_0",sensor="temp2"} 51.04',
        'node_hwmon_temp_celsius{chip="acpitz",sensor="temp1"} 255', // a disconnected probe
        'node_thermal_zone_temp{type="x86_pkg_temp",zone="0"} 50',
      ].join('\n'),
    );
    expect(hostTemperature(get)).toBe(51);
  });

  it("reads a Raspberry Pi's thermal zone alone, and is null without sensors", () => {
    expect(hostTemperature(lookup('node_thermal_zone_temp{type="cpu-thermal",zone="0"} 62.322'))).toBe(62.3);
    expect(hostTemperature(lookup('node_load1 1'))).toBeNull();
  });
});

describe('heartbeat figures', () => {
  it('carry the rates and the temperature, from the previous scrape counters', () => {
    const text = (k: number) => `${body(k)}\nnode_thermal_zone_temp{type="cpu-thermal",zone="0"} 55`;
    const first = deriveFigures(parseExposition(text(1)), undefined, 100);
    expect(first.figures.net_receive_bytes_per_second).toBeNull();
    expect(first.figures.temperature_celsius).toBe(55);
    const second = deriveFigures(parseExposition(text(3)), first.counters, 110);
    expect(second.figures).toMatchObject({
      net_receive_bytes_per_second: 240,
      net_transmit_bytes_per_second: 120,
      net_interfaces: { eth0: [200, 100], wlan0: [40, 20] },
      disk_writes_per_second: 4,
      container_figures: { web: [10, 1048576, 80, 20], db: [10, 2097152, null, null] },
    });
  });
});
