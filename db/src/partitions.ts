import { type Kysely, sql } from 'kysely';

const DAY_MS = 86_400_000;

/** The UTC day a timestamp falls in, as midnight UTC. */
export function utcDay(t: Date): Date {
  return new Date(Math.floor(t.getTime() / DAY_MS) * DAY_MS);
}

/** `heartbeats_p20261122` for the UTC day of `day`. */
export function heartbeatPartitionName(day: Date): string {
  return `heartbeats_p${utcDay(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The UTC day a partition name stands for, or null for a name not of ours. */
export function parseHeartbeatPartitionName(name: string): Date | null {
  const m = /^heartbeats_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  if (!m) return null;
  const day = new Date(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`);
  return Number.isNaN(day.getTime()) ? null : day;
}

/** Names of the partitions `heartbeats` has now (from pg_inherits), oldest first. */
export async function listHeartbeatPartitions(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_class p on p.oid = i.inhparent
    where p.relname = 'heartbeats'
    order by c.relname`.execute(db);
  return rows.map((r) => r.name);
}

/**
 * Creates the daily partitions of `heartbeats` for the day of `now` and the
 * `daysAhead` days after it, where missing.
 * @returns the names of the partitions created by this call
 */
export async function ensureHeartbeatPartitions(db: Kysely<any>, now: Date = new Date(), daysAhead = 2): Promise<string[]> {
  const existing = new Set(await listHeartbeatPartitions(db));
  const created: string[] = [];
  for (let i = 0; i <= daysAhead; i++) {
    const from = new Date(utcDay(now).getTime() + i * DAY_MS);
    const name = heartbeatPartitionName(from);
    if (existing.has(name)) continue;
    const to = new Date(from.getTime() + DAY_MS);
    await sql`create table if not exists ${sql.table(name)} partition of heartbeats
      for values from (${sql.lit(from.toISOString())}) to (${sql.lit(to.toISOString())})`.execute(db);
    created.push(name);
  }
  return created;
}

/**
 * Drops the partitions of `heartbeats` whose whole day ended more than
 * `retentionDays` days before `now`.
 * @returns the names of the partitions dropped
 */
export async function dropExpiredHeartbeatPartitions(db: Kysely<any>, retentionDays: number, now: Date = new Date()): Promise<string[]> {
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  const dropped: string[] = [];
  for (const name of await listHeartbeatPartitions(db)) {
    const day = parseHeartbeatPartitionName(name);
    if (day && day.getTime() + DAY_MS <= cutoff) {
      await sql`drop table if exists ${sql.table(name)}`.execute(db);
      dropped.push(name);
    }
  }
  return dropped;
}
