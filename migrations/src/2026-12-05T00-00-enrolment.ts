import { type Kysely, sql } from 'kysely';

/**
 * Hosts that join by themselves:
 * - `enrolment_tokens`: what an admin hands to new hosts (kept as SHA-256), with
 *   an expiry, a use limit, labels for its hosts, and whether they wait for approval;
 * - `enrolment_nonces`: the `jti` of each signed enrolment request while it could
 *   still be accepted, so a replayed request is refused;
 * - on `targets`: the host's key (an Ed25519 JWK and its RFC 7638 thumbprint,
 *   unique: one key, one host), its metadata, whether it waits for approval,
 *   whether it connects out, and the token it enrolled with.
 * Expand only.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('enrolment_tokens')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('labels', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('require_approval', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('max_uses', 'integer', (c) => c.check(sql`max_uses > 0`))
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('enrolment_nonces')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .alterTable('targets')
    .addColumn('key_thumbprint', 'text', (c) => c.unique())
    .addColumn('public_key', 'jsonb')
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('pending_approval', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('connects_out', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('enrolment_token_id', 'integer', (c) => c.references('enrolment_tokens.id').onDelete('set null'))
    .addColumn('enrolled_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('targets')
    .dropColumn('key_thumbprint')
    .dropColumn('public_key')
    .dropColumn('metadata')
    .dropColumn('pending_approval')
    .dropColumn('connects_out')
    .dropColumn('enrolment_token_id')
    .dropColumn('enrolled_at')
    .execute();
  await db.schema.dropTable('enrolment_nonces').execute();
  await db.schema.dropTable('enrolment_tokens').execute();
}
