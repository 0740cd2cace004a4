import { createFirstAdmin, type Database, firstAdminMessage, seedDefaultAlertRules } from '@vigil/db';
import type { Kysely } from 'kysely';

/**
 * The console's first start on an empty database (a fresh `docker compose up`):
 * makes the user `admin` so that someone can sign in. With
 * VIGIL_ADMIN_PASSWORD (or _FILE) it gets that password, said by name only;
 * else a generated one, written to `out` this once (`docker compose logs
 * console` finds it). Never keeps the console from starting: a database not
 * ready yet, or not migrated, is logged and the next start tries again.
 * With the admin it adds the default alert rules (a fresh install only).
 * @param openDb the console's database (getDb), opened here so that its failure is caught too
 * @returns what happened: `created`, `exists` (there are users), or `failed`
 */
export async function firstStart(
  openDb: () => Promise<Kysely<Database>>,
  adminPassword: string | undefined,
  out: (s: string) => void,
  warn: (message: string) => void,
): Promise<'created' | 'exists' | 'failed'> {
  let first: Awaited<ReturnType<typeof createFirstAdmin>>;
  try {
    first = await createFirstAdmin(await openDb(), adminPassword);
  } catch (e) {
    warn(`first start: cannot make the first admin (${(e as Error).message}); the next start tries again`);
    return 'failed';
  }
  if (!first) return 'exists';
  // A fresh install: the fleet's default alert rules too (core's DEFAULT_RULES), once.
  await seedDefaultAlertRules(await openDb()).catch((e) =>
    warn(`first start: cannot add the default alert rules (${(e as Error).message})`),
  );
  out(
    first.generated
      ? firstAdminMessage(first.password, 'vigil users reset-password admin')
      : '\nfirst start: created the console user "admin" with the password from VIGIL_ADMIN_PASSWORD\n\n',
  );
  return 'created';
}
