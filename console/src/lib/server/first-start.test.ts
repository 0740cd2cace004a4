import { createUser, listUsers, verifyLogin } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import { firstStart } from './first-start';

describe.each(testDatabases())('the first start on $name', (engine) => {
  it('makes the admin once, with a generated password shown once and only then', async () => {
    const { db, drop } = await engine.open();
    try {
      let printed = '';
      const warnings: string[] = [];
      expect(
        await firstStart(
          async () => db,
          undefined,
          (s) => (printed += s),
          (w) => warnings.push(w),
        ),
      ).toBe('created');
      const password = /with the password\n\n {4}(\S+)\n/.exec(printed)?.[1];
      expect(password).toMatch(/^[\w-]{20}$/);
      expect((await verifyLogin(db, 'admin', password!))?.role).toBe('admin');
      const audit = await db.selectFrom('audit_log').select(['action', 'user_id']).execute();
      expect(audit).toEqual([{ action: 'user.create', user_id: null }]);
      // Every later start (and every other replica) finds a user and says nothing.
      printed = '';
      expect(
        await firstStart(
          async () => db,
          undefined,
          (s) => (printed += s),
          (w) => warnings.push(w),
        ),
      ).toBe('exists');
      expect(printed).toBe('');
      expect(warnings).toEqual([]);
    } finally {
      await drop();
    }
  });

  it('uses VIGIL_ADMIN_PASSWORD when given, and never prints it', async () => {
    const { db, drop } = await engine.open();
    try {
      let printed = '';
      expect(
        await firstStart(
          async () => db,
          'a-chosen-password-0123',
          (s) => (printed += s),
          () => {},
        ),
      ).toBe('created');
      expect(printed).toContain('from VIGIL_ADMIN_PASSWORD');
      expect(printed).not.toContain('a-chosen-password-0123');
      expect((await verifyLogin(db, 'admin', 'a-chosen-password-0123'))?.name).toBe('admin');
    } finally {
      await drop();
    }
  });

  it('leaves an install with users alone, and says why it could not check rather than stop the console', async () => {
    const { db, drop } = await engine.open();
    try {
      await createUser(db, { name: 'ops', role: 'admin', password: 'someone-was-here-0123' });
      expect(
        await firstStart(
          async () => db,
          undefined,
          () => expect.unreachable(),
          () => expect.unreachable(),
        ),
      ).toBe('exists');
      expect((await listUsers(db)).map((u) => u.name)).toEqual(['ops']);
      const warnings: string[] = [];
      expect(
        await firstStart(
          async () => db,
          'short',
          () => {},
          (w) => warnings.push(w),
        ),
      ).toBe('exists'); // users exist: the password is never looked at
      await db.deleteFrom('users').execute();
      expect(
        await firstStart(
          async () => db,
          'short',
          () => expect.unreachable(),
          (w) => warnings.push(w),
        ),
      ).toBe('failed');
      // A database that cannot be opened (DATABASE_URL unset, nobody serving it): said, not thrown.
      expect(
        await firstStart(
          () => Promise.reject(new Error('database: the console needs DATABASE_URL')),
          undefined,
          () => expect.unreachable(),
          (w) => warnings.push(w),
        ),
      ).toBe('failed');
      expect(warnings).toEqual([
        expect.stringMatching(
          /^first start: cannot make the first admin \(a password needs at least \d+ characters\); the next start tries again$/,
        ),
        'first start: cannot make the first admin (database: the console needs DATABASE_URL); the next start tries again',
      ]);
    } finally {
      await drop();
    }
  });
});
