import { type Kysely, sql } from 'kysely';

/**
 * Alerts beyond liveness. `alert_rules` (a name and a spec: what to watch,
 * where, how long, how bad); `alerts`, one row per rule, target and subject
 * (a container, a probe) from pending to resolved, kept as history;
 * `alert_sends`, which channel was told of which alert's firing and
 * resolution; `alert_groups`, each channel's groups of alerts and when each
 * is next due to be sent (so a restart never sends a group twice or early);
 * `silences`, one-off or recurring (a cron schedule and a duration: a
 * maintenance window). Channels get routes (label matchers, a least
 * severity) and grouping settings, and the kinds widen to Discord, Teams,
 * ntfy, Gotify, Pushover, Telegram and email. Expand only.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('alert_rules')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('spec', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('rule_id', 'integer', (c) => c.notNull().references('alert_rules.id').onDelete('cascade'))
    .addColumn('target_id', 'integer', (c) => c.notNull().references('targets.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'firing', 'resolved')`))
    .addColumn('severity', 'text', (c) => c.notNull().check(sql`severity in ('info', 'warning', 'critical')`))
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('labels', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('fired_at', 'timestamptz')
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('inhibited', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('silenced_by', 'integer')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index alerts_open on alerts (rule_id, target_id, subject) where state <> 'resolved'`.execute(db);
  await sql`create index alerts_target_started on alerts (target_id, started_at desc)`.execute(db);
  await sql`create index alerts_started on alerts (started_at desc)`.execute(db);
  await db.schema
    .createTable('alert_sends')
    .addColumn('alert_id', 'bigint', (c) => c.notNull().references('alerts.id').onDelete('cascade'))
    .addColumn('channel_id', 'integer', (c) => c.notNull().references('notification_channels.id').onDelete('cascade'))
    .addColumn('firing_sent_at', 'timestamptz')
    .addColumn('resolved_sent_at', 'timestamptz')
    .addPrimaryKeyConstraint('alert_sends_pkey', ['alert_id', 'channel_id'])
    .execute();
  await db.schema
    .createTable('alert_groups')
    .addColumn('channel_id', 'integer', (c) => c.notNull().references('notification_channels.id').onDelete('cascade'))
    .addColumn('group_key', 'text', (c) => c.notNull())
    .addColumn('labels', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('next_flush_at', 'timestamptz')
    .addColumn('last_flush_at', 'timestamptz')
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'timestamptz')
    .addPrimaryKeyConstraint('alert_groups_pkey', ['channel_id', 'group_key'])
    .execute();
  await db.schema
    .createTable('silences')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('matchers', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('schedule', 'text')
    .addColumn('duration_seconds', 'integer')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .alterTable('notification_channels')
    .addColumn('matchers', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('min_severity', 'text', (c) => c.notNull().defaultTo('info'))
    .addColumn('group_by', 'text', (c) => c.notNull().defaultTo('alertname'))
    .addColumn('group_wait_seconds', 'integer', (c) => c.notNull().defaultTo(30))
    .addColumn('group_interval_seconds', 'integer', (c) => c.notNull().defaultTo(300))
    .addColumn('repeat_interval_seconds', 'integer', (c) => c.notNull().defaultTo(14_400))
    // The scraper replica sending the channel's grouped host events now, and until when: one at a time, so a group is one message.
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'timestamptz')
    .execute();
  await sql`alter table notification_channels drop constraint notification_channels_kind_check`.execute(db);
  await sql`alter table notification_channels add constraint notification_channels_kind_check check (kind in (${sql.join(KINDS.map((k) => sql.lit(k)))}))`.execute(
    db,
  );
}

/** The channel kinds from this migration on (frozen here: a later kind comes with its own migration). */
const KINDS = ['webhook', 'slack', 'alertmanager', 'discord', 'teams', 'ntfy', 'gotify', 'pushover', 'telegram', 'email'];

export async function down(db: Kysely<any>): Promise<void> {
  // Channels of the kinds an older version cannot send to are removed with their deliveries.
  await sql`delete from notification_channels where kind not in ('webhook', 'slack', 'alertmanager')`.execute(db);
  await sql`alter table notification_channels drop constraint notification_channels_kind_check`.execute(db);
  await sql`alter table notification_channels add constraint notification_channels_kind_check check (kind in ('webhook', 'slack', 'alertmanager'))`.execute(
    db,
  );
  await db.schema
    .alterTable('notification_channels')
    .dropColumn('matchers')
    .dropColumn('min_severity')
    .dropColumn('group_by')
    .dropColumn('group_wait_seconds')
    .dropColumn('group_interval_seconds')
    .dropColumn('repeat_interval_seconds')
    .dropColumn('claimed_by')
    .dropColumn('claimed_until')
    .execute();
  for (const t of ['silences', 'alert_groups', 'alert_sends', 'alerts', 'alert_rules']) await db.schema.dropTable(t).execute();
}
