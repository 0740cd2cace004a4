/** The audit log (`audit_log`): who changed what, from where, before and after. */
import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/** One audit row to write: who acted (null user for the CLI run by root on the host), on what, from where, before and after. */
export interface AuditInput {
  user: { id: number | null; name: string } | null;
  action: string;
  objectType: string;
  objectId?: string | number | null;
  clientAddress?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Writes an audit row. The CLI acts as `cli (<os user>)`. */
export async function writeAudit(db: Kysely<Database>, entry: AuditInput): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      user_id: entry.user?.id ?? null,
      user_name: entry.user?.name ?? `cli (${process.env.USER ?? process.getuid?.() ?? 'unknown'})`,
      action: entry.action,
      object_type: entry.objectType,
      object_id: entry.objectId === undefined || entry.objectId === null ? null : String(entry.objectId),
      client_address: entry.clientAddress ?? null,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
    })
    .execute();
}

/** Audit rows, newest first, `limit` from `offset`, with the total. */
export async function listAudit(
  db: Kysely<Database>,
  page: { limit: number; offset: number } = { limit: 50, offset: 0 },
): Promise<{ rows: Awaited<ReturnType<typeof auditPage>>; total: number }> {
  const [rows, total] = await Promise.all([
    auditPage(db, page),
    db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

function auditPage(db: Kysely<Database>, page: { limit: number; offset: number }) {
  return db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute();
}
