import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { fixtureTree } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { addContainerSamples, type ContainerSnapshot } from './containers.js';
import { NETDEV_COLUMNS } from './netdev.js';

const SYS = path.join(fixtureTree('cgroup-v2'), 'sys');

describe('addContainerSamples', () => {
  it('names network, block I/O and spec series as cAdvisor does, with allowed labels', async () => {
    const counters = Object.fromEntries(NETDEV_COLUMNS.map((c, i) => [c, i + 1])) as Record<(typeof NETDEV_COLUMNS)[number], number>;
    const snap: ContainerSnapshot = {
      info: {
        id: 'abc',
        name: 'web-1',
        image: 'nginx:1.27',
        state: 'running',
        health: 'starting',
        restartCount: 2,
        startedAt: 1700000000,
        pid: 42,
        labels: { 'com.example.stack': 'web' },
      },
      cgroup: '/system.slice/docker-abc.scope',
      stats: {
        cpuUsageSeconds: 1,
        cpuUserSeconds: null,
        cpuSystemSeconds: null,
        cfsPeriods: null,
        cfsThrottledPeriods: null,
        cfsThrottledSeconds: null,
        cpuQuotaMicros: null,
        cpuPeriodMicros: 100000,
        memoryUsageBytes: 10,
        memoryWorkingSetBytes: 8,
        memoryRssBytes: null,
        memoryCacheBytes: null,
        memoryMaxUsageBytes: null,
        memoryLimitBytes: 0,
        io: [{ device: '8:0', readBytes: 5, writeBytes: 6 }],
        pids: 3,
      },
      network: [{ device: 'eth0', counters }],
    };
    const sink = new MetricSink();
    await addContainerSamples(sink, [snap], SYS, 1800000000);
    const labels = { id: '/system.slice/docker-abc.scope', image: 'nginx:1.27', name: 'web-1', container_label_com_example_stack: 'web' };
    const get = (n: string) => sink.families.get(n)?.values;
    expect(get('container_network_receive_bytes_total')).toEqual([
      { labels: { ...labels, interface: 'eth0' }, value: counters.receive_bytes },
    ]);
    expect(get('container_network_transmit_packets_dropped_total')).toEqual([
      { labels: { ...labels, interface: 'eth0' }, value: counters.transmit_drop },
    ]);
    expect(get('container_fs_reads_bytes_total')).toEqual([{ labels: { ...labels, device: '/dev/sda' }, value: 5 }]);
    expect(get('vigil_container_health_status')).toEqual([{ labels: { ...labels, status: 'starting' }, value: 1 }]);
    expect(get('vigil_container_restarts')).toEqual([{ labels, value: 2 }]);
    expect(get('container_last_seen')).toEqual([{ labels, value: 1800000000 }]);
    // No quota: neither quota nor period is reported (cAdvisor's behaviour); nulls give no series.
    expect(get('container_spec_cpu_quota')).toBeUndefined();
    expect(get('container_spec_cpu_period')).toBeUndefined();
    expect(get('container_cpu_user_seconds_total')).toBeUndefined();
    expect(get('container_spec_memory_limit_bytes')).toEqual([{ labels, value: 0 }]);
  });
});
