/**
 * The series Vigil both writes (the exporter) and reads (the scraper's
 * heartbeats, the exporter's JSON views): one definition each, with
 * node_exporter's name, type and help text, so a writer and its readers cannot
 * drift apart. Units are in the names (`_bytes`, `_seconds`, `_total`).
 */
import type { MetricType } from './render.js';

/** A metric family's name, type and help text. */
export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
}

const gauge = (name: string, help: string): MetricDef => Object.freeze({ name, type: 'gauge', help });
const counter = (name: string, help: string): MetricDef => Object.freeze({ name, type: 'counter', help });

/** `/proc/stat`: seconds per CPU and mode (`{cpu, mode}`). */
export const NODE_CPU_SECONDS = counter('node_cpu_seconds_total', 'Seconds the CPUs spent in each mode.');
/** `/proc/stat` btime: Unix seconds. */
export const NODE_BOOT_TIME = gauge('node_boot_time_seconds', 'Node boot time, in unixtime.');
/** The host's clock at collection, Unix seconds. */
export const NODE_TIME = gauge('node_time_seconds', 'System time in seconds since epoch (1970).');
/** `/proc/loadavg`. */
export const NODE_LOAD1 = gauge('node_load1', '1m load average.');
export const NODE_LOAD5 = gauge('node_load5', '5m load average.');
export const NODE_LOAD15 = gauge('node_load15', '15m load average.');
/** statfs(2) per mount (`{device, fstype, mountpoint}`), bytes. */
export const NODE_FILESYSTEM_SIZE = gauge('node_filesystem_size_bytes', 'Filesystem size in bytes.');
export const NODE_FILESYSTEM_FREE = gauge('node_filesystem_free_bytes', 'Filesystem free space in bytes.');
export const NODE_FILESYSTEM_AVAIL = gauge('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.');
/** `/proc/sys/kernel` (`{sysname, release, version, machine, nodename, domainname}`). */
export const NODE_UNAME_INFO = gauge('node_uname_info', 'Labeled system information as provided by the uname system call.');
/** `/sys/class/thermal` (`{zone, type}`), degrees Celsius. */
export const NODE_THERMAL_ZONE_TEMP = gauge('node_thermal_zone_temp', 'Zone temperature in Celsius');
/** `/sys/class/hwmon` (`{chip, sensor}`), degrees Celsius. */
export const NODE_HWMON_TEMP = gauge('node_hwmon_temp_celsius', 'Hardware monitor for temperature (input)');
/** `/sys/class/net/<device>/operstate` (`{device}`): 1 when up. */
export const NODE_NETWORK_UP = gauge('node_network_up', "Value is 1 if operstate is 'up', 0 otherwise.");

/** `/proc/net/dev` counters (`{device}`): `node_network_{receive,transmit}_<what>_total`. */
export function nodeNetwork(direction: 'receive' | 'transmit', what: string): MetricDef {
  return counter(`node_network_${direction}_${what}_total`, `Network device statistic ${direction}_${what}.`);
}
export const NODE_NETWORK_RECEIVE_BYTES = nodeNetwork('receive', 'bytes');
export const NODE_NETWORK_TRANSMIT_BYTES = nodeNetwork('transmit', 'bytes');

/**
 * `/proc/meminfo` field `field` as node_exporter names it: `node_memory_<field>_bytes`
 * for fields in kB, `node_memory_<field>` for counts (HugePages_Total, …).
 */
export function nodeMemory(field: string, bytes = true): MetricDef {
  const name = bytes ? `node_memory_${field}_bytes` : `node_memory_${field}`;
  return gauge(name, `Memory information field ${bytes ? `${field}_bytes` : field}.`);
}
export const NODE_MEMORY_MEM_TOTAL = nodeMemory('MemTotal');
export const NODE_MEMORY_MEM_AVAILABLE = nodeMemory('MemAvailable');
export const NODE_MEMORY_MEM_FREE = nodeMemory('MemFree');
export const NODE_MEMORY_BUFFERS = nodeMemory('Buffers');
export const NODE_MEMORY_CACHED = nodeMemory('Cached');

/** Terminal sessions open on the exporter's host (its PTY socket); read into each heartbeat's `pty_sessions`. */
export const VIGIL_EXPORTER_PTY_SESSIONS = gauge(
  'vigil_exporter_pty_sessions',
  'Terminal sessions open on this host through the PTY socket (shells, container shells, log streams).',
);

/** cAdvisor's container series (`{id, image, name}` and the allowed container labels), from cgroup files. */
export const CONTAINER_CPU_USAGE_SECONDS = counter('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed in seconds.');
export const CONTAINER_MEMORY_WORKING_SET = gauge('container_memory_working_set_bytes', 'Current working set in bytes.');
export const CONTAINER_SPEC_MEMORY_LIMIT = gauge('container_spec_memory_limit_bytes', 'Memory limit for the container.');
export const CONTAINER_START_TIME = gauge('container_start_time_seconds', 'Start time of the container since unix epoch in seconds.');
export const CONTAINER_LAST_SEEN = gauge('container_last_seen', 'Last time a container was seen by the exporter');
/** Docker's view of a container, which cAdvisor has no series for: state and health (`{state}`, `{health}` = 1), restarts. */
export const VIGIL_CONTAINER_STATE = gauge(
  'vigil_container_state',
  "The container's state as Docker reports it (created, running, paused, restarting, removing, exited, dead), 1 for the current one.",
);
export const VIGIL_CONTAINER_HEALTH_STATUS = gauge(
  'vigil_container_health_status',
  "The container's health check status (healthy, unhealthy, starting, none), 1 for the current one.",
);
export const VIGIL_CONTAINER_RESTARTS = gauge('vigil_container_restarts', 'How many times Docker restarted the container.');

/** blackbox_exporter's probe series (`{service}` in the services collector). */
export const PROBE_SUCCESS = gauge('probe_success', 'Displays whether or not the probe was a success');
export const PROBE_DURATION_SECONDS = gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds');
export const PROBE_HTTP_STATUS_CODE = gauge('probe_http_status_code', 'Response HTTP status code');
export const PROBE_SSL_EARLIEST_CERT_EXPIRY = gauge('probe_ssl_earliest_cert_expiry', 'Returns last SSL chain expiry in unixtime');
