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
 * total; disk used / (used + avail), as df), load1 as the kernel reports it.
 */
export interface FigureSeries {
  /** `raw`: buckets of heartbeats; `hourly`: buckets of hourly rollups (plus raw for the hours not rolled up yet). */
  resolution: 'raw' | 'hourly';
  stepSeconds: number;
  /** Each bucket's start, Unix seconds, oldest first; buckets without a scrape are left out. */
  time: number[];
  /** Scrapes in the bucket, and how many of them succeeded. */
  scrapes: number[];
  up: number[];
  cpu: Band;
  memory: Band;
  disk: Band;
  load1: Band;
}

const FIGURES = ['cpu', 'memory', 'disk', 'load1'] as const;

/** The percent figures of a heartbeat row, as one derived table (`h`) from `heartbeats`. */
function heartbeatFigures(where: RawBuilder<unknown>) {
  return sql`(
    select target_id, time, up,
      cpu_usage_percent as cpu,
      -- The per-heartbeat rules of core/figures.ts (memoryUsagePercent, rootDiskUsagePercent), in SQL so buckets aggregate them.
      memory_used_bytes / nullif(memory_total_bytes, 0) * 100 as memory,
      coalesce(disk_used_bytes / nullif(disk_used_bytes + disk_avail_bytes, 0), disk_used_bytes / nullif(disk_total_bytes, 0)) * 100 as disk,
      load1
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
      insert into heartbeats_hourly
      select target_id, ${bin(3600, sql`time`)} as hour, ${RAW_AGGREGATES}
      from ${heartbeatFigures(sql`time >= ${from} and time < ${to}`)}
      group by 1, 2
      on conflict (target_id, hour) do update set ${updates}`.execute(db);
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
  const band = (f: (typeof FIGURES)[number]): Band => ({
    min: rows.map((r) => r[`${f}_min`]),
    avg: rows.map((r) => r[`${f}_avg`]),
    max: rows.map((r) => r[`${f}_max`]),
  });
  return {
    resolution,
    stepSeconds,
    time: rows.map((r) => Number(r.t)),
    scrapes: rows.map((r) => r.scrapes),
    up: rows.map((r) => r.up_scrapes),
    cpu: band('cpu'),
    memory: band('memory'),
    disk: band('disk'),
    load1: band('load1'),
  };
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
