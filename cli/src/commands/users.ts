import { parseArgs } from 'node:util';
import {
  type Account,
  AccountError,
  createUser,
  generatePassword,
  listUsers,
  MIN_PASSWORD_LENGTH,
  removeUser,
  requireCurrentSchema,
  setPassword,
  setRole,
  writeAudit,
} from '@vigil/db';
import { type DbWork, type Out, type PasswordSource, printTable, SUBCOMMANDS, UsageError, VIGIL } from './shared.js';

/** `vigil users list|create|set-role|reset-password|remove`: reads the command line (throwing UsageError), returns the database work. */
export function usersCommand(sub: string, rest: string[], out: Out, password: PasswordSource): DbWork {
  const { values, positionals } = parseArgs({
    args: rest,
    options: { role: { type: 'string' }, 'generate-password': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const usage = SUBCOMMANDS.users!;
  const wants = (n: number, options: string[] = []) => {
    const extra = Object.keys(values).filter((k) => !options.includes(k));
    if (positionals.length !== n || extra.length > 0) throw new UsageError(usage);
  };
  const [name, role] = positionals as [string, string];
  // AccountError says what was wrong (a taken name, a short password, the last admin): a usage mistake.
  const asUsage = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (e) {
      if (e instanceof AccountError) throw new UsageError(e.message);
      throw e;
    }
  };
  const newPassword = async (): Promise<{ value: string; generated: boolean }> =>
    values['generate-password']
      ? { value: generatePassword(), generated: true }
      : { value: await password(`password for ${name} (at least ${MIN_PASSWORD_LENGTH} characters)`), generated: false };
  const shown = (u: Account) => ({ name: u.name, role: u.role });
  if (sub === 'list') {
    wants(0);
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const users = await listUsers(db);
      if (users.length === 0) {
        out(`no users; add one with: ${VIGIL} users create NAME --role admin\n`);
        return;
      }
      printTable(
        ['NAME', 'ROLE', 'CREATED', 'PASSWORD CHANGED'],
        users.map((u) => [u.name, u.role, u.created_at.toISOString().slice(0, 16), u.password_changed_at.toISOString().slice(0, 16)]),
        out,
      );
    };
  }
  if (sub === 'create') {
    wants(1, ['role', 'generate-password']);
    if (!values.role) throw new UsageError(`${VIGIL} users create needs --role (admin, operator, developer or viewer)`);
    return (db) =>
      asUsage(async () => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const pw = await newPassword();
        const user = await createUser(db, { name, role: values.role!, password: pw.value });
        await writeAudit(db, { user: null, action: 'user.create', objectType: 'user', objectId: user.id, after: shown(user) });
        out(`created ${user.name} (${user.role})\n`);
        if (pw.generated) out(`password: ${pw.value}\n(shown this once; it can be changed on the account page)\n`);
      });
  }
  if (sub === 'set-role') {
    wants(2);
    return (db) =>
      asUsage(async () => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const { before, after } = await setRole(db, name, role);
        await writeAudit(db, {
          user: null,
          action: 'user.set_role',
          objectType: 'user',
          objectId: after.id,
          before: shown(before),
          after: shown(after),
        });
        out(`${after.name} is now ${after.role} (was ${before.role})\n`);
      });
  }
  if (sub === 'reset-password') {
    wants(1, ['generate-password']);
    return (db) =>
      asUsage(async () => {
        await requireCurrentSchema(db, `${VIGIL} migrate`);
        const pw = await newPassword();
        const user = await setPassword(db, name, pw.value);
        await writeAudit(db, { user: null, action: 'user.reset_password', objectType: 'user', objectId: user.id });
        out(`new password set for ${user.name}; their sessions were ended\n`);
        if (pw.generated) out(`password: ${pw.value}\n(shown this once)\n`);
      });
  }
  wants(1);
  return (db) =>
    asUsage(async () => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const user = await removeUser(db, name);
      await writeAudit(db, { user: null, action: 'user.remove', objectType: 'user', objectId: user.id, before: shown(user) });
      out(`removed ${user.name}\n`);
    });
}
