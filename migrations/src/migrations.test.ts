import { type Database, ensureHeartbeatPartitions, migrateDown, migrateToLatest } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from './index.js';

describe('the list of migrations', () => {
  it('names each migration by its file, in the order they run', () => {
    const names = Object.keys(migrations);
    expect(names).toEqual([...names].sort());
    for (const name of names) expect(name).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-[a-z0-9-]+$/);
    for (const m of Object.values(migrations)) expect(typeof m.down).toBe('function');
  });
});

describe.each(testDatabases())('migrations on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterAll(() => drop());

  it('is up to date after migrating, and migrates down one step at a time and up again', async () => {
    expect(await migrateToLatest(db)).toEqual([]);
    const [t] = await db
      .insertInto('targets')
      .values({ name: 'was-stopped', url: 'http://s/metrics', state: 'stopped' })
      .returning('id')
      .execute();
    // Expand only: what the previous version writes still works on this schema.
    await sql`insert into targets (name, url) values ('old-writer', 'http://o/metrics')`.execute(db);
    await sql`insert into notification_channels (name, kind, url) values ('old-channel', 'webhook', 'http://w/')`.execute(db);
    await db.deleteFrom('targets').where('name', '=', 'old-writer').execute();
    await db.deleteFrom('notification_channels').execute();
    // The alerts' tables hold what an older version never reads; down drops them and the channels' routes.
    const [rule] = await db
      .insertInto('alert_rules')
      .values({ name: 'R', spec: JSON.stringify({ kind: 'probe' }) })
      .returning('id')
      .execute();
    await db
      .insertInto('alerts')
      .values({ rule_id: rule!.id, target_id: t!.id, state: 'firing', severity: 'warning', summary: 's', started_at: new Date() })
      .execute();
    await expect(
      db
        .insertInto('alerts')
        .values({ rule_id: rule!.id, target_id: t!.id, state: 'pending', severity: 'warning', summary: 's', started_at: new Date() })
        .execute(),
    ).rejects.toThrow(/alerts_open/);
    // Enrolment's columns and tables: what an older version never reads; down drops them.
    await db.insertInto('enrolment_tokens').values({ name: 't', token_hash: 'h', prefix: 'vge_', created_by: 'x' }).execute();
    await db
      .updateTable('targets')
      .set({ key_thumbprint: 'k', metadata: JSON.stringify({ provider: 'home' }) })
      .where('id', '=', t!.id)
      .execute();
    const enrolment = await migrateDown(db);
    expect(enrolment).toEqual(['2026-12-05T00-00-enrolment']);
    for (const table of ['enrolment_tokens', 'enrolment_nonces'])
      await expect(sql`select * from ${sql.table(table)}`.execute(db)).rejects.toThrow(new RegExp(table));
    await expect(sql`select metadata from targets`.execute(db)).rejects.toThrow(/metadata/);
    const alerts = await migrateDown(db);
    expect(alerts).toEqual(['2026-12-04T20-00-alerts']);
    for (const table of ['alert_rules', 'alerts', 'alert_sends', 'alert_groups', 'silences'])
      await expect(sql`select * from ${sql.table(table)}`.execute(db)).rejects.toThrow(new RegExp(table));
    await expect(sql`select matchers from notification_channels`.execute(db)).rejects.toThrow(/matchers/);
    const identities = await migrateDown(db);
    expect(identities).toEqual(['2026-12-04T19-00-user-identities']);
    await expect(sql`select * from user_identities`.execute(db)).rejects.toThrow(/user_identities/);
    const twoFactor = await migrateDown(db);
    expect(twoFactor).toEqual(['2026-12-04T18-00-two-factor']);
    await expect(sql`select second_factor_pending from sessions`.execute(db)).rejects.toThrow(/second_factor_pending/);
    await expect(sql`select * from user_totp`.execute(db)).rejects.toThrow(/user_totp/);
    await sql`insert into heartbeats (target_id, time, up, duration_seconds, cpu_usage_percent) values (${t!.id}, now(), true, 0.1, 5)`.execute(
      db,
    );
    const rates = await migrateDown(db);
    expect(rates).toEqual(['2026-12-04T12-00-heartbeat-rates']);
    await expect(sql`select net_interfaces from heartbeats`.execute(db)).rejects.toThrow(/net_interfaces/);
    await expect(sql`select temperature_max from heartbeats_hourly`.execute(db)).rejects.toThrow(/temperature_max/);
    await db.deleteFrom('heartbeats').execute();
    const statusPages = await migrateDown(db);
    expect(statusPages).toEqual(['2026-12-04T06-00-status-pages']);
    await expect(db.selectFrom('status_pages').selectAll().execute()).rejects.toThrow(/status_pages/);
    const replicas = await migrateDown(db);
    expect(replicas).toEqual(['2026-12-04T00-00-scraper-replicas']);
    await expect(db.selectFrom('scrapers').selectAll().execute()).rejects.toThrow(/scrapers/);
    await expect(sql`select scraper_id from targets`.execute(db)).rejects.toThrow(/scraper_id/);
    await expect(sql`select claimed_by from notification_deliveries`.execute(db)).rejects.toThrow(/claimed_by/);
    const terminals = await migrateDown(db);
    expect(terminals).toEqual(['2026-11-27T00-00-terminal-sessions']);
    await expect(db.selectFrom('terminal_sessions').selectAll().execute()).rejects.toThrow(/terminal_sessions/);
    await expect(sql`select pty_sessions from heartbeats`.execute(db)).rejects.toThrow(/pty_sessions/);
    const fingerprint = await migrateDown(db);
    expect(fingerprint).toEqual(['2026-11-26T06-00-inventory-fingerprint']);
    const inventory = await migrateDown(db);
    expect(inventory).toEqual(['2026-11-26T00-00-inventory-rollups']);
    await expect(db.selectFrom('heartbeats_hourly').selectAll().execute()).rejects.toThrow(/heartbeats_hourly/);
    await expect(db.selectFrom('target_inventory').selectAll().execute()).rejects.toThrow(/target_inventory/);
    const accounts = await migrateDown(db);
    expect(accounts).toEqual(['2026-11-25T12-00-accounts']);
    await expect(db.selectFrom('users').selectAll().execute()).rejects.toThrow(/users/);
    await expect(sql`select paused from targets`.execute(db)).rejects.toThrow(/paused/);
    const stopped = await migrateDown(db);
    expect(stopped).toEqual(['2026-11-25T00-00-target-stopped']);
    // The older schema has no `stopped`: such a target becomes unknown, and the state is checked again.
    expect((await db.selectFrom('targets').select('state').where('id', '=', t!.id).executeTakeFirst())?.state).toBe('unknown');
    await expect(db.updateTable('targets').set({ state: 'stopped' }).execute()).rejects.toThrow(/targets_state_check/);
    await db.deleteFrom('targets').execute();
    const disk = await migrateDown(db);
    expect(disk).toEqual(['2026-11-24T00-00-heartbeat-disk-avail']);
    await expect(sql`select disk_avail_bytes from heartbeats`.execute(db)).rejects.toThrow(/disk_avail_bytes/);
    const last = await migrateDown(db);
    expect(last).toEqual(['2026-11-22T06-00-notification-channels']);
    await expect(db.selectFrom('notification_channels').selectAll().execute()).rejects.toThrow(/notification_channels/);
    const first = await migrateDown(db);
    expect(first).toEqual(['2026-11-22T00-00-targets-heartbeats-events']);
    await expect(db.selectFrom('targets').selectAll().execute()).rejects.toThrow(/targets/);
    expect(await migrateToLatest(db)).toEqual([
      ...first,
      ...last,
      ...disk,
      ...stopped,
      ...accounts,
      ...inventory,
      ...fingerprint,
      ...terminals,
      ...replicas,
      ...statusPages,
      ...rates,
      ...twoFactor,
      ...identities,
      ...alerts,
      ...enrolment,
    ]);
    await db.updateTable('targets').set({ state: 'stopped' }).execute(); // allowed again
    await ensureHeartbeatPartitions(db, new Date(), 1);
  });
});
