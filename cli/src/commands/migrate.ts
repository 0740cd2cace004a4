import { parseArgs } from 'node:util';
import { migrateDown, migrateToLatest } from '@vigil/db';
import type { DbWork, Out } from './shared.js';

/** `vigil migrate [--down]`. */
export function migrateCommand(args: string[], out: Out): DbWork {
  const { values } = parseArgs({ args, options: { down: { type: 'boolean' } }, strict: true });
  return async (db) => {
    const names = values.down ? await migrateDown(db) : await migrateToLatest(db);
    out(names.length ? `${values.down ? 'reverted' : 'applied'}: ${names.join(', ')}\n` : 'schema is up to date\n');
  };
}
