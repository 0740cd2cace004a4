import type { Kysely } from 'kysely';
import type { Database, StatusPage, StatusPageGroup } from './database.js';

/** Thrown when a status page's slug is taken. */
export class StatusPageExistsError extends Error {
  readonly code = 'exists';
  readonly field = 'slug';
}

/** Every status page, by slug. */
export async function listStatusPages(db: Kysely<Database>): Promise<StatusPage[]> {
  return db.selectFrom('status_pages').selectAll().orderBy('slug').execute();
}

/** The status page at `slug`, or null. */
export async function getStatusPage(db: Kysely<Database>, slug: string): Promise<StatusPage | null> {
  return (await db.selectFrom('status_pages').selectAll().where('slug', '=', slug).executeTakeFirst()) ?? null;
}

/**
 * Adds a status page (its input checked by the caller).
 * @throws StatusPageExistsError when the slug is taken
 */
export async function addStatusPage(
  db: Kysely<Database>,
  page: { slug: string; title: string; groups: StatusPageGroup[]; note: string | null },
): Promise<StatusPage> {
  const row = await db
    .insertInto('status_pages')
    .values({ ...page, groups: JSON.stringify(page.groups) })
    .onConflict((oc) => oc.column('slug').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new StatusPageExistsError(`a status page at /status/${page.slug} exists already; pick another slug or remove it first`);
  return row;
}

/** Removes a status page by id. @returns it, or null when there was none */
export async function removeStatusPage(db: Kysely<Database>, id: number): Promise<StatusPage | null> {
  return (await db.deleteFrom('status_pages').where('id', '=', id).returningAll().executeTakeFirst()) ?? null;
}
