import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from './database.js';

const HOUR_MS = 3_600_000;

/** min, avg and max of one figure per bucket, null where no scrape in the bucket carried it. */
export interface Band {
  min: (number | null)[];
  avg: (number | null)[];
  max: (number | null)[];
}

/**
 * A target's figures over a range, bucketed, in columns (what a chart library
 * such as uPlot takes as is). cpu, memory and disk are percent (memory used /
 * total; disk used / (used + avail), as df), load1 as the kernel reports it;
 * net_rx/net_tx and disk_read/disk_write bytes per second, disk_reads/disk_writes
 * operations per second (IOPS), temperature °C (core's rates.ts).
 */
export interface FigureSeries extends Record<Figure, Band> {
  /** `raw`: buckets of heartbeats; `hourly`: buckets of hourly rollups (plus raw for the hours not rolled up yet). */
  resolution: 'raw' | 'hourly';
  stepSeconds: number;
  /** Each bucket's start, Unix seconds, oldest first; buckets without a scrape are left out. */
  time: number[];
  /** Scrapes in the bucket, and how many of them succeeded. */
  scrapes: number[];
  up: number[];
}

/** The figures charted, by their names in `heartbeats_hourly`. */
export const FIGURES = [
  'cpu',
  'memory',
  'disk',
  'load1',
  'net_rx',
  'net_tx',
  'disk_read',
  'disk_write',
  'disk_reads',
  'disk_writes',
  'temperature',
] as const;
export type Figure = (typeof FIGURES)[number];

/** The percent figures of a heartbeat row, as one derived table (`h`) from `heartbeats`. */
function heartbeatFigures(where: RawBuilder<unknown>) {
  return sql`(
    select target_id, time, up,
      cpu_usage_percent as cpu,
      -- The per-heartbeat rules of core/figures.ts (memoryUsagePercent, rootDiskUsagePercent), in SQL so buckets aggregate them.
      memory_used_bytes / nullif(memory_total_bytes, 0) * 100 as memory,
      coalesce(disk_used_bytes / nullif(disk_used_bytes + disk_avail_bytes, 0), disk_used_bytes / nullif(disk_total_bytes, 0)) * 100 as disk,
      load1,
      net_receive_bytes_per_second as net_rx,
      net_transmit_bytes_per_second as net_tx,
      disk_read_bytes_per_second as disk_read,
      disk_written_bytes_per_second as disk_write,
      disk_reads_per_second as disk_reads,
      disk_writes_per_second as disk_writes,
      temperature_celsius as temperature
    from heartbeats where ${where}
  ) h`;
}

/** count, up count and min/avg/max of each figure over the grouped heartbeat rows. */
const RAW_AGGREGATES = sql.raw(
  [
    'count(*)::int as scrapes',
    'count(*) filter (where up)::int as up_scrapes',
    ...FIGURES.flatMap((f) => [`min(${f}) as ${f}_min`, `avg(${f}) as ${f}_avg`, `max(${f}) as ${f}_max`]),
  ].join(', '),
);

/** The same over grouped hourly rows: min of mins, max of maxes, averages weighted by up scrapes. */
const ROLLUP_AGGREGATES = sql.raw(
  [
    'sum(scrapes)::int as scrapes',
    'sum(up_scrapes)::int as up_scrapes',
    ...FIGURES.flatMap((f) => [
      `min(${f}_min) as ${f}_min`,
      `sum(${f}_avg * up_scrapes) / nullif(sum(up_scrapes) filter (where ${f}_avg is not null), 0) as ${f}_avg`,
      `max(${f}_max) as ${f}_max`,
    ]),
  ].join(', '),
);

/** The columns of `heartbeats_hourly` the scalar rollup writes, in RAW_AGGREGATES' order. */
const ROLLUP_COLUMNS = sql.raw(
  ['target_id', 'hour', 'scrapes', 'up_scrapes', ...FIGURES.flatMap((f) => [`${f}_min`, `${f}_avg`, `${f}_max`])].join(', '),
);

/**
 * The figures kept per name (JSON objects of arrays in a heartbeat): per
 * network interface [rx, tx] bytes/s; per container [cpu %, memory bytes,
 * rx, tx bytes/s]. `digits` rounds each value of an hourly average.
 */
const NAMED = {
  interfaces: { column: 'net_interfaces', digits: [0, 0] },
  containers: { column: 'container_figures', digits: [2, 0, 0, 0] },
} as const;
export type NamedKind = keyof typeof NAMED;

/** avg(value[i]) as v<i> over the rows of `jsonb_each(<column>) e`. */
const namedAverages = (kind: NamedKind) => sql.raw(NAMED[kind].digits.map((_, i) => `avg((e.value->>${i})::float8) as v${i}`).join(', '));

/** Fills the hourly rows' per-name averages (`net_interfaces`, `container_figures`) for the hours in [from, to). */
async function rollupNamed(db: Kysely<Database>, kind: NamedKind, from: Date, to: Date): Promise<void> {
  const { column, digits } = NAMED[kind];
  const col = sql.ref(column);
  const arr = sql.raw(`jsonb_build_array(${digits.map((d, i) => `round(v${i}::numeric, ${d})`).join(', ')})`);
  await sql`
    update heartbeats_hourly r set ${col} = x.j
    from (
      select target_id, hour, jsonb_object_agg(name, ${arr}) as j
      from (
        select h.target_id, ${bin(3600, sql`h.time`)} as hour, e.key as name, ${namedAverages(kind)}
        from heartbeats h, jsonb_each(h.${col}) e
        where h.time >= ${from} and h.time < ${to} and h.${col} is not null
        group by 1, 2, 3
      ) s group by 1, 2
    ) x
    where r.target_id = x.target_id and r.hour = x.hour`.execute(db);
}

/** Fills the hourly rows' per-probe counts (`probe_results`: {service: [successes, results]}) for the hours in [from, to). */
async function rollupProbes(db: Kysely<Database>, from: Date, to: Date): Promise<void> {
  await sql`
    update heartbeats_hourly r set probe_results = x.j
    from (
      select target_id, hour, jsonb_object_agg(name, jsonb_build_array(ok, n)) as j
      from (
        select h.target_id, ${bin(3600, sql`h.time`)} as hour, e.key as name, sum((e.value)::int)::int as ok, count(*)::int as n
        from heartbeats h, jsonb_each(h.probe_results) e
        where h.time >= ${from} and h.time < ${to} and h.probe_results is not null
        group by 1, 2, 3
      ) s group by 1, 2
    ) x
    where r.target_id = x.target_id and r.hour = x.hour`.execute(db);
}

/** `date_bin` on UTC boundaries, whatever the session's time zone. */
const bin = (stepSeconds: number, column: RawBuilder<unknown>) =>
  sql`date_bin(make_interval(secs => ${stepSeconds}), ${column}, timestamptz '2000-01-01 00:00:00+00')`;

/**
 * Rolls heartbeats up into `heartbeats_hourly`: every UTC hour completed by
 * `now`, from two hours before the newest hour already rolled (so heartbeats
 * written late, after a database outage, are counted) or from the oldest
 * heartbeat. Works a day at a time; an hour rolled again is replaced.
 * @returns the hours rolled (per all targets) and rows written
 */
export async function rollupHeartbeats(
  db: Kysely<Database>,
  now: Date = new Date(),
  onProgress?: (p: { from: Date; to: Date; rows: number }) => void,
): Promise<{ hours: number; rows: number }> {
  const end = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  const { rows: last } = await sql<{ hour: Date | null }>`select max(hour) as hour from heartbeats_hourly`.execute(db);
  let start: Date;
  if (last[0]?.hour) start = new Date(new Date(last[0].hour).getTime() - 2 * HOUR_MS);
  else {
    const { rows: first } = await sql<{ time: Date | null }>`select min(time) as time from heartbeats`.execute(db);
    if (!first[0]?.time) return { hours: 0, rows: 0 };
    start = new Date(Math.floor(new Date(first[0].time).getTime() / HOUR_MS) * HOUR_MS);
  }
  let rows = 0;
  const hours = Math.max(0, (end.getTime() - start.getTime()) / HOUR_MS);
  for (let from = start; from < end; ) {
    const to = new Date(Math.min(end.getTime(), from.getTime() + 24 * HOUR_MS));
    const updates = sql.raw(
      ['scrapes', 'up_scrapes', ...FIGURES.flatMap((f) => [`${f}_min`, `${f}_avg`, `${f}_max`])]
        .map((c) => `${c} = excluded.${c}`)
        .join(', '),
    );
    const r = await sql`
      insert into heartbeats_hourly (${ROLLUP_COLUMNS})
      select target_id, ${bin(3600, sql`time`)} as hour, ${RAW_AGGREGATES}
      from ${heartbeatFigures(sql`time >= ${from} and time < ${to}`)}
      group by 1, 2
      on conflict (target_id, hour) do update set ${updates}`.execute(db);
    for (const kind of Object.keys(NAMED) as NamedKind[]) await rollupNamed(db, kind, from, to);
    await rollupProbes(db, from, to);
    const n = Number(r.numAffectedRows ?? 0);
    rows += n;
    onProgress?.({ from, to, rows: n });
    from = to;
  }
  return { hours, rows };
}

/**
 * Deletes hourly rollups older than `retentionDays` before `now`.
 * @returns the rows deleted
 */
export async function pruneRollups(db: Kysely<Database>, retentionDays: number, now: Date = new Date()): Promise<number> {
  const r = await db
    .deleteFrom('heartbeats_hourly')
    .where('hour', '<', new Date(now.getTime() - retentionDays * 86_400_000))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

type BucketRow = { t: number; scrapes: number; up_scrapes: number } & Record<
  `${(typeof FIGURES)[number]}_${'min' | 'avg' | 'max'}`,
  number | null
>;

function toSeries(rows: BucketRow[], resolution: FigureSeries['resolution'], stepSeconds: number): FigureSeries {
  const band = (f: Figure): Band => ({
    min: rows.map((r) => r[`${f}_min`]),
    avg: rows.map((r) => r[`${f}_avg`]),
    max: rows.map((r) => r[`${f}_max`]),
  });
  const out = {
    resolution,
    stepSeconds,
    time: rows.map((r) => Number(r.t)),
    scrapes: rows.map((r) => r.scrapes),
    up: rows.map((r) => r.up_scrapes),
  } as FigureSeries;
  for (const f of FIGURES) out[f] = band(f);
  return out;
}

/**
 * A target's figures from `from` (inclusive) to `to` (exclusive) in buckets of
 * `stepSeconds`. A step of a whole number of hours reads the hourly rollups
 * (and heartbeats for the hours after the newest rollup, so the chart reaches
 * now); a shorter step reads heartbeats. One query either way.
 */
export async function figureSeries(
  db: Kysely<Database>,
  targetId: number,
  from: Date,
  to: Date,
  stepSeconds: number,
): Promise<FigureSeries> {
  const hourly = stepSeconds >= 3600 && stepSeconds % 3600 === 0;
  if (!hourly) {
    const { rows } = await sql<BucketRow>`
      select extract(epoch from ${bin(stepSeconds, sql`time`)})::float8 as t, ${RAW_AGGREGATES}
      from ${heartbeatFigures(sql`target_id = ${targetId} and time >= ${from} and time < ${to}`)}
      group by 1 order by 1`.execute(db);
    return toSeries(rows, 'raw', stepSeconds);
  }
  // Rollups up to the newest rolled hour; heartbeats after it, rolled up here.
  const { rows } = await sql<BucketRow>`
    with rolled as (
      select * from heartbeats_hourly where target_id = ${targetId} and hour >= ${from} and hour < ${to}
    ), tail as (
      select ${bin(3600, sql`time`)} as hour, ${RAW_AGGREGATES}
      from ${heartbeatFigures(
        sql`target_id = ${targetId} and time < ${to} and time >= greatest(${from}::timestamptz, coalesce((select max(hour) from rolled) + interval '1 hour', ${from}::timestamptz))`,
      )}
      group by 1
    ), hours as (
      select hour, scrapes, up_scrapes, ${sql.raw(FIGURES.flatMap((f) => [`${f}_min`, `${f}_avg`, `${f}_max`]).join(', '))} from rolled
      union all select * from tail
    )
    select extract(epoch from ${bin(stepSeconds, sql`hour`)})::float8 as t, ${ROLLUP_AGGREGATES}
    from hours group by 1 order by 1`.execute(db);
  return toSeries(rows, 'hourly', stepSeconds);
}

/**
 * Per-name figures over a range, bucketed like {@link figureSeries}: each
 * network interface's [rx, tx] bytes per second, or each container's [cpu %
 * of one core, memory working set bytes, rx, tx bytes per second], averaged per
 * bucket; null where a name had no figure in a bucket.
 */
export interface NamedSeries {
  resolution: 'raw' | 'hourly';
  stepSeconds: number;
  /** Each bucket's start, Unix seconds, oldest first; buckets where no name had figures are left out. */
  time: number[];
  /** Per name (sorted), one column per value, aligned with `time`. */
  series: Record<string, (number | null)[][]>;
}

/**
 * A target's per-interface or per-container figures from `from` (inclusive) to
 * `to` (exclusive) in buckets of `stepSeconds`: from heartbeats, or for whole
 * hours from the hourly rollups (weighted by their up scrapes) and the
 * heartbeats after the newest rolled hour. At most `limit` names (by name). One query.
 */
export async function namedSeries(
  db: Kysely<Database>,
  kind: NamedKind,
  targetId: number,
  from: Date,
  to: Date,
  stepSeconds: number,
  limit = 100,
): Promise<NamedSeries> {
  const width = NAMED[kind].digits.length;
  const col = sql.ref(NAMED[kind].column);
  const hourly = stepSeconds >= 3600 && stepSeconds % 3600 === 0;
  type Row = { t: number; name: string } & Record<string, number | null>;
  let rows: Row[];
  if (!hourly) {
    ({ rows } = await sql<Row>`
      select extract(epoch from ${bin(stepSeconds, sql`h.time`)})::float8 as t, e.key as name, ${namedAverages(kind)}
      from heartbeats h, jsonb_each(h.${col}) e
      where h.target_id = ${targetId} and h.time >= ${from} and h.time < ${to} and h.${col} is not null
      group by 1, 2 order by 1, 2`.execute(db));
  } else {
    const weighted = sql.raw(
      NAMED[kind].digits.map((_, i) => `sum(v${i} * w) / nullif(sum(w) filter (where v${i} is not null), 0) as v${i}`).join(', '),
    );
    const fromRollup = sql.raw(NAMED[kind].digits.map((_, i) => `(e.value->>${i})::float8 as v${i}`).join(', '));
    ({ rows } = await sql<Row>`
      with rolled as (
        select hour, up_scrapes, ${col} as j from heartbeats_hourly
        where target_id = ${targetId} and hour >= ${from} and hour < ${to}
      ), parts as (
        select r.hour, e.key as name, r.up_scrapes::float8 as w, ${fromRollup}
        from rolled r, jsonb_each(r.j) e where r.j is not null
        union all
        select ${bin(3600, sql`h.time`)}, e.key, count(*)::float8, ${namedAverages(kind)}
        from heartbeats h, jsonb_each(h.${col}) e
        where h.target_id = ${targetId} and h.time < ${to} and h.${col} is not null
          and h.time >= greatest(${from}::timestamptz, coalesce((select max(hour) from rolled) + interval '1 hour', ${from}::timestamptz))
        group by 1, 2
      )
      select extract(epoch from ${bin(stepSeconds, sql`hour`)})::float8 as t, name, ${weighted}
      from parts group by 1, 2 order by 1, 2`.execute(db));
  }
  const times: number[] = [];
  const index = new Map<number, number>();
  for (const r of rows) {
    const t = Number(r.t);
    if (!index.has(t)) {
      index.set(t, times.length);
      times.push(t);
    }
  }
  const names = [...new Set(rows.map((r) => r.name))].sort().slice(0, limit);
  const series: NamedSeries['series'] = {};
  for (const n of names) series[n] = Array.from({ length: width }, () => new Array<number | null>(times.length).fill(null));
  for (const r of rows) {
    const cols = series[r.name];
    if (!cols) continue;
    const i = index.get(Number(r.t))!;
    for (let k = 0; k < width; k++) {
      const v = r[`v${k}`];
      cols[k]![i] = v === null || v === undefined ? null : Number(v);
    }
  }
  return { resolution: hourly ? 'hourly' : 'raw', stepSeconds, time: times, series };
}

/** A target's recent cpu and memory (percent), oldest bucket first; null where a bucket had no successful scrape. */
export interface Trend {
  cpu: (number | null)[];
  memory: (number | null)[];
}

/**
 * Every target's cpu and memory trend over the `buckets` × `bucketSeconds`
 * before `now` (default an hour in 12 buckets of 5 minutes): the average of its
 * successful heartbeats per bucket, for the fleet table's sparklines. One
 * query for the whole fleet; targets with no heartbeat in the window are left out.
 */
export async function fleetTrends(
  db: Kysely<Database>,
  now: Date = new Date(),
  buckets = 12,
  bucketSeconds = 300,
): Promise<Map<number, Trend>> {
  const from = new Date(now.getTime() - buckets * bucketSeconds * 1000);
  const { rows } = await sql<{ target_id: number; b: number; cpu: number | null; memory: number | null }>`
    select target_id, floor(extract(epoch from time - ${from}::timestamptz) / ${bucketSeconds})::int as b,
      avg(cpu_usage_percent) as cpu,
      avg(memory_used_bytes / nullif(memory_total_bytes, 0) * 100) as memory
    from heartbeats
    where time >= ${from} and time < ${now} and up
    group by 1, 2`.execute(db);
  const out = new Map<number, Trend>();
  for (const r of rows) {
    if (r.b < 0 || r.b >= buckets) continue;
    let t = out.get(r.target_id);
    if (!t) out.set(r.target_id, (t = { cpu: new Array(buckets).fill(null), memory: new Array(buckets).fill(null) }));
    t.cpu[r.b] = r.cpu === null ? null : Math.round(Number(r.cpu) * 10) / 10;
    t.memory[r.b] = r.memory === null ? null : Math.round(Number(r.memory) * 10) / 10;
  }
  return out;
}

/** A probe's successes and results over a span. */
export interface ProbeCount {
  ok: number;
  total: number;
}

/** One probed service's results over the last `days` UTC days. */
export interface ProbeHistory {
  name: string;
  /** The 24 hours before now (by whole hours). */
  last24h: ProbeCount;
  /** Per UTC day (`YYYY-MM-DD`), oldest first; days without results are left out. */
  days: (ProbeCount & { day: string })[];
}

/**
 * Each probed service's results of a target (`probe_success` per scrape,
 * kept in heartbeats' `probe_results`): successes and results per UTC day for
 * the `days` days up to `now`, and over the last 24 hours; from the hourly
 * rollups, and the heartbeats after the newest rolled hour. A scrape that
 * failed, a pause, a stop or a database outage gives no result, so it counts
 * neither way. One query. Names sorted.
 */
export async function probeHistory(db: Kysely<Database>, targetId: number, now: Date = new Date(), days = 90): Promise<ProbeHistory[]> {
  const DAY = 86_400_000;
  const since = new Date(Math.floor(now.getTime() / DAY) * DAY - (days - 1) * DAY);
  const dayAgo = new Date(now.getTime() - DAY);
  const { rows } = await sql<{ name: string; day: string; ok: number; total: number; ok24: number | null; total24: number | null }>`
    with rolled as (
      select hour, probe_results as j from heartbeats_hourly where target_id = ${targetId} and hour >= ${since} and hour < ${now}
    ), parts as (
      select r.hour, e.key as name, (e.value->>0)::int as ok, (e.value->>1)::int as n
      from rolled r, jsonb_each(r.j) e where r.j is not null
      union all
      select ${bin(3600, sql`h.time`)}, e.key, sum((e.value)::int)::int, count(*)::int
      from heartbeats h, jsonb_each(h.probe_results) e
      where h.target_id = ${targetId} and h.probe_results is not null and h.time < ${now}
        and h.time >= greatest(${since}::timestamptz, coalesce((select max(hour) from rolled) + interval '1 hour', ${since}::timestamptz))
      group by 1, 2
    )
    select name, to_char(${bin(86_400, sql`hour`)} at time zone 'UTC', 'YYYY-MM-DD') as day,
      sum(ok)::int as ok, sum(n)::int as total,
      sum(ok) filter (where hour >= ${dayAgo})::int as ok24, sum(n) filter (where hour >= ${dayAgo})::int as total24
    from parts group by 1, 2 order by 1, 2`.execute(db);
  const out = new Map<string, ProbeHistory>();
  for (const r of rows) {
    let p = out.get(r.name);
    if (!p) out.set(r.name, (p = { name: r.name, last24h: { ok: 0, total: 0 }, days: [] }));
    p.days.push({ day: r.day, ok: r.ok, total: r.total });
    p.last24h.ok += r.ok24 ?? 0;
    p.last24h.total += r.total24 ?? 0;
  }
  return [...out.values()];
}
