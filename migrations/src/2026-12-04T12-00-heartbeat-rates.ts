import { type Kysely, sql } from 'kysely';

/** The scalar figures a heartbeat gains, each also rolled up hourly as min/avg/max. */
const RATE_COLUMNS = [
  'net_receive_bytes_per_second',
  'net_transmit_bytes_per_second',
  'disk_read_bytes_per_second',
  'disk_written_bytes_per_second',
  'disk_reads_per_second',
  'disk_writes_per_second',
  'temperature_celsius',
];

/** Their names in `heartbeats_hourly` (short, as cpu, memory, disk, load1 are there). */
const ROLLUP_NAMES = ['net_rx', 'net_tx', 'disk_read', 'disk_write', 'disk_reads', 'disk_writes', 'temperature'];

/**
 * More of the host per heartbeat: network and disk rates (bytes and
 * operations per second since the previous scrape), the temperature, and two
 * JSON figures, per interface (`net_interfaces`: {device: [rx, tx]}) and per
 * container (`container_figures`: {name: [cpu %, memory bytes, rx, tx]}); and
 * each probe's result (`probe_results`: {service: 1 | 0}), for its
 * availability. The hourly rollups gain the same, averaged, and per probe
 * [successes, results]. Expand only: every column is nullable and the
 * previous version's writes leave them null.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `alter table heartbeats ${[...RATE_COLUMNS.map((c) => `add column ${c} double precision`), 'add column net_interfaces jsonb', 'add column container_figures jsonb', 'add column probe_results jsonb'].join(', ')}`,
    )
    .execute(db);
  const stats = ROLLUP_NAMES.flatMap((n) => ['min', 'avg', 'max'].map((s) => `add column ${n}_${s} double precision`));
  await sql
    .raw(
      `alter table heartbeats_hourly ${[...stats, 'add column net_interfaces jsonb', 'add column container_figures jsonb', 'add column probe_results jsonb'].join(', ')}`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const stats = ROLLUP_NAMES.flatMap((n) => ['min', 'avg', 'max'].map((s) => `drop column ${n}_${s}`));
  await sql
    .raw(`alter table heartbeats_hourly ${[...stats, 'drop column net_interfaces', 'drop column container_figures'].join(', ')}`)
    .execute(db);
  await sql
    .raw(
      `alter table heartbeats ${[...RATE_COLUMNS, 'net_interfaces', 'container_figures', 'probe_results'].map((c) => `drop column ${c}`).join(', ')}`,
    )
    .execute(db);
}
