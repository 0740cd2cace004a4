import { describe, expect, it } from 'vitest';
import { indexSamples, parseExposition } from './exposition.js';
import { containerCpuPercent, INVENTORY_LIMIT, inventoryFingerprint, inventoryFromSamples } from './inventory.js';

const inventoryOf = (text: string) => {
  const by = indexSamples(parseExposition(text));
  return inventoryFromSamples((n) => by.get(n));
};

describe('inventoryFromSamples', () => {
  it("reads a Vigil exporter's containers: state and health sets, restarts, cpu total, memory, limit", () => {
    const inv = inventoryOf(`
vigil_container_state{id="/docker/1",image="nginx:1",name="web",state="running"} 1
vigil_container_health_status{id="/docker/1",image="nginx:1",name="web",status="healthy"} 1
vigil_container_restarts{id="/docker/1",image="nginx:1",name="web"} 2
container_start_time_seconds{id="/docker/1",image="nginx:1",name="web"} 1700000000
container_cpu_usage_seconds_total{cpu="total",id="/docker/1",image="nginx:1",name="web"} 12.5
container_memory_working_set_bytes{id="/docker/1",image="nginx:1",name="web"} 1048576
container_spec_memory_limit_bytes{id="/docker/1",image="nginx:1",name="web"} 536870912
vigil_container_state{id="/docker/2",image="busybox",name="batch",state="exited"} 1
vigil_container_health_status{id="/docker/2",image="busybox",name="batch",status="none"} 1
vigil_container_restarts{id="/docker/2",image="busybox",name="batch"} 0
`);
    expect(inv.containers).toEqual([
      {
        name: 'batch',
        image: 'busybox',
        state: 'exited',
        health: 'none',
        restarts: 0,
        cpuSecondsTotal: null,
        cpuPercent: null,
        memoryBytes: null,
        memoryLimitBytes: null,
        startedAt: null,
      },
      {
        name: 'web',
        image: 'nginx:1',
        state: 'running',
        health: 'healthy',
        restarts: 2,
        cpuSecondsTotal: 12.5,
        cpuPercent: null,
        memoryBytes: 1048576,
        memoryLimitBytes: 536870912,
        startedAt: 1700000000,
      },
    ]);
    expect(inv.services).toEqual([]);
  });

  it("reads cAdvisor's: per-CPU counters summed, no limit as 0, cgroups without a name left out", () => {
    const inv = inventoryOf(`
container_cpu_usage_seconds_total{cpu="cpu00",id="/docker/abc",image="redis",name="cache"} 1.5
container_cpu_usage_seconds_total{cpu="cpu01",id="/docker/abc",image="redis",name="cache"} 2.5
container_cpu_usage_seconds_total{cpu="total",id="/",image="",name=""} 900
container_memory_working_set_bytes{id="/",image="",name=""} 1e9
container_memory_working_set_bytes{id="/docker/abc",image="redis",name="cache"} 4096
container_spec_memory_limit_bytes{id="/docker/abc",image="redis",name="cache"} 0
container_last_seen{id="/docker/abc",image="redis",name="cache"} 1.7e9
`);
    expect(inv.containers).toHaveLength(1);
    expect(inv.containers[0]).toMatchObject({ name: 'cache', image: 'redis', state: null, health: null, restarts: null });
    expect(inv.containers[0]!.cpuSecondsTotal).toBe(4);
    expect(inv.containers[0]!.memoryLimitBytes).toBeNull();
    expect(inv.containers[0]!.memoryBytes).toBe(4096);
  });

  it("reads services: Vigil's by service label, a blackbox_exporter target as one probe", () => {
    const vigil = inventoryOf(`
probe_success{service="site"} 1
probe_duration_seconds{service="site"} 0.25
probe_http_status_code{service="site"} 200
probe_ssl_earliest_cert_expiry{service="site"} 1800000000
probe_success{service="db"} 0
probe_duration_seconds{service="db"} 5
`);
    expect(vigil.services).toEqual([
      { name: 'db', success: false, durationSeconds: 5, statusCode: null, certExpiry: null },
      { name: 'site', success: true, durationSeconds: 0.25, statusCode: 200, certExpiry: 1800000000 },
    ]);
    const blackbox = inventoryOf('probe_success 1\nprobe_duration_seconds 0.1\nprobe_http_status_code 0\n');
    expect(blackbox.services).toEqual([{ name: 'probe', success: true, durationSeconds: 0.1, statusCode: null, certExpiry: null }]);
  });

  it('keeps at most INVENTORY_LIMIT of each, by name', () => {
    const lines: string[] = [];
    for (let i = 0; i < INVENTORY_LIMIT + 20; i++) {
      lines.push(`vigil_container_restarts{name="c${String(i).padStart(4, '0')}"} 0`);
      lines.push(`probe_success{service="s${String(i).padStart(4, '0')}"} 1`);
    }
    const inv = inventoryOf(lines.join('\n'));
    expect(inv.containers).toHaveLength(INVENTORY_LIMIT);
    expect(inv.services).toHaveLength(INVENTORY_LIMIT);
    expect(inv.containers.at(-1)!.name).toBe(`c${String(INVENTORY_LIMIT - 1).padStart(4, '0')}`);
  });
});

describe('containerCpuPercent', () => {
  const base = inventoryOf(`
container_cpu_usage_seconds_total{cpu="total",name="a"} 30
container_cpu_usage_seconds_total{cpu="total",name="b"} 5
container_cpu_usage_seconds_total{cpu="total",name="c"} 1
`).containers;
  it('is Δcpu/Δt in percent of one core; null for a new container, a restarted one or no window', () => {
    const r = containerCpuPercent(
      base,
      new Map([
        ['a', 15],
        ['b', 9],
      ]),
      10,
    );
    expect(r.map((c) => c.cpuPercent)).toEqual([150, null, null]);
    expect(containerCpuPercent(base, new Map([['a', 15]]), 0)[0]!.cpuPercent).toBeNull();
  });
});

describe('inventoryFingerprint', () => {
  const inv = inventoryOf(`
vigil_container_state{name="web",image="nginx",state="running"} 1
container_cpu_usage_seconds_total{cpu="total",name="web"} 1
container_memory_working_set_bytes{name="web"} 100
probe_success{service="site"} 1
probe_duration_seconds{service="site"} 0.1
`);
  it('ignores figures that move every scrape, sees states, sets and results', () => {
    const f = inventoryFingerprint(inv);
    const moved = structuredClone(inv);
    moved.containers[0]!.cpuSecondsTotal = 2;
    moved.containers[0]!.memoryBytes = 200;
    moved.services[0]!.durationSeconds = 0.2;
    expect(inventoryFingerprint(moved)).toBe(f);
    const stopped = structuredClone(inv);
    stopped.containers[0]!.state = 'exited';
    expect(inventoryFingerprint(stopped)).not.toBe(f);
    const failed = structuredClone(inv);
    failed.services[0]!.success = false;
    expect(inventoryFingerprint(failed)).not.toBe(f);
    expect(inventoryFingerprint({ ...inv, containers: [] })).not.toBe(f);
  });
});
