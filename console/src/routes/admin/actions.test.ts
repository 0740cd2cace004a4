import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Account,
  addChannel,
  createApiKey,
  createDb,
  createUser,
  type Database,
  getTarget,
  getUser,
  listApiKeys,
  listAudit,
  listChannels,
  migrateToLatest,
  startEmbeddedPostgres,
  verifyLogin,
} from '@vigil/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The admin and account pages' loads and form actions, called as SvelteKit
// calls them (the hook has let the request through), against a database
// served over the wire. Who may call them is the access test's business.
describe('admin and account form actions', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-admin-'));
  let stop: () => Promise<void>;
  let db: Kysely<Database>;
  let admin: Account;
  let hook: http.Server;
  let hookUrl: string;
  const received: unknown[] = [];
  beforeAll(async () => {
    const server = await startEmbeddedPostgres(dir);
    stop = server.stop;
    db = await createDb(server.url, { max: 1 });
    await migrateToLatest(db);
    admin = await createUser(db, { name: 'ada', role: 'admin', password: 'ada-password-123' });
    vi.stubEnv('DATABASE_URL', server.url);
    vi.stubEnv('VIGIL_LOG_LEVEL', 'silent');
    hook = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        received.push(JSON.parse(b));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook/secret`;
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    hook.close();
    await db.destroy();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cookies = new Map<string, string>();
  /** A POST of `form` by `user`, as the hook hands it on. */
  const post = (form: Record<string, string>, user: Account = admin) =>
    ({
      request: new Request('http://localhost/', { method: 'POST', body: new URLSearchParams(form) }),
      locals: { principal: { user, via: 'session' } },
      getClientAddress: () => '127.0.0.1',
      cookies: {
        set: (k: string, v: string) => cookies.set(k, v),
        get: (k: string) => cookies.get(k),
        delete: (k: string) => cookies.delete(k),
      },
      url: new URL('http://localhost/'),
      params: {},
      route: { id: null },
    }) as never;
  const get = (user: Account = admin, search = '') =>
    ({ locals: { principal: { user, via: 'session' } }, url: new URL(`http://localhost/${search}`) }) as never;
  const PAGES: Record<string, () => Promise<{ actions: unknown }>> = {
    targets: () => import('./targets/+page.server.ts'),
    channels: () => import('./channels/+page.server.ts'),
    users: () => import('./users/+page.server.ts'),
    keys: () => import('./keys/+page.server.ts'),
    account: () => import('../account/+page.server.ts'),
  };
  const actions = async (page: string) => (await PAGES[page]!()).actions as Record<string, (e: unknown) => Promise<unknown>>;

  it('targets: a test scrape writes nothing; add, edit, remove are audited; bad input says which field', async () => {
    const exporter = http.createServer((_, res) => res.end('node_load1 0.5\nprobe_success{service="site"} 1\n'));
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(exporter.address() as AddressInfo).port}/metrics`;
    try {
      const a = await actions('targets');
      const tested = (await a.test!(post({ name: 'pi-9', url, labels: 'rack=a' }))) as {
        scrape: { up: boolean; figures: { load1: number } };
      };
      expect(tested.scrape).toMatchObject({ up: true, figures: { load1: 0.5 }, inventory: { services: [{ name: 'site' }] } });
      expect(await db.selectFrom('targets').select('id').execute()).toEqual([]);
      expect(
        await a.add!(post({ name: 'pi-9', url, labels: 'rack=a, role=db', interval_seconds: '30', token: 'a-token-of-sixteen+' })),
      ).toEqual({ action: 'add', added: 'pi-9' });
      const [t] = await db.selectFrom('targets').selectAll().execute();
      expect(t).toMatchObject({
        name: 'pi-9',
        interval_seconds: 30,
        labels: { rack: 'a', role: 'db' },
        token: 'a-token-of-sixteen+',
        source: 'console',
      });
      expect(await a.add!(post({ name: 'pi-9', url }))).toMatchObject({ status: 409, data: { field: 'name' } });
      expect(await a.add!(post({ name: 'pi-10', url, labels: 'nokey' }))).toMatchObject({ status: 422, data: { field: 'labels' } });
      expect(await a.add!(post({ name: 'bad name', url }))).toMatchObject({ status: 422, data: { field: 'name' } });
      expect(await a.edit!(post({ id: String(t!.id), interval_seconds: '60', labels: '', clear_token: 'on' }))).toMatchObject({
        edited: 'pi-9',
      });
      expect(await getTarget(db, t!.id)).toMatchObject({ interval_seconds: 60, labels: {}, token: null });
      expect(await a.edit!(post({ id: String(t!.id), interval_seconds: '5', timeout_seconds: '10' }))).toMatchObject({ status: 422 });
      // A target that is gone is refused as the API refuses it: 404, saying so.
      expect(await a.edit!(post({ id: '424242', labels: '' }))).toMatchObject({
        status: 404,
        data: { message: 'no target with id 424242; it may have been removed' },
      });
      expect(await a.remove!(post({ id: '424242' }))).toMatchObject({ status: 404, data: { message: 'no target with id 424242' } });
      const listed = (await (await import('./targets/+page.server.ts')).load(get())) as { targets: { name: string; has_token: boolean }[] };
      expect(listed.targets.map((x) => x.name)).toEqual(['pi-9']);
      expect(await a.remove!(post({ id: String(t!.id) }))).toEqual({ action: 'remove', removed: 'pi-9' });
      expect((await listAudit(db, { limit: 10, offset: 0 })).rows.map((r) => r.action)).toEqual([
        'target.remove',
        'target.update',
        'target.create',
      ]);
    } finally {
      exporter.close();
    }
  });

  it('channels: add (URL never shown), test, remove', async () => {
    const a = await actions('channels');
    expect(await a.add!(post({ name: 'ops', kind: 'webhook', url: hookUrl }))).toEqual({ action: 'add', added: 'ops' });
    expect(await a.add!(post({ name: 'x', kind: 'webhook', url: 'ftp://secret' }))).toMatchObject({ status: 422, data: { field: 'url' } });
    const page = (await (await import('./channels/+page.server.ts')).load(get())) as {
      channels: { id: number; url: string }[];
      canEdit: boolean;
    };
    expect(page.canEdit).toBe(true);
    expect(JSON.stringify(page)).not.toContain('secret');
    const id = String(page.channels[0]!.id);
    expect(await a.test!(post({ id }))).toEqual({ action: 'test', tested: 'ops', error: null });
    expect(received).toEqual([expect.objectContaining({ version: 1 })]);
    const broken = await addChannel(db, { name: 'broken', kind: 'slack', url: 'http://127.0.0.1:1/x' });
    expect(await a.test!(post({ id: String(broken.id) }))).toMatchObject({
      tested: 'broken',
      error: expect.stringMatching(/connection refused/),
    });
    expect(await a.remove!(post({ id }))).toEqual({ action: 'remove', removed: 'ops' });
    expect(await a.remove!(post({ id }))).toMatchObject({ status: 404 });
    expect((await listChannels(db)).map((c) => c.name)).toEqual(['broken']);
  });

  it('users: create, set a role, reset a password, remove; never oneself, never the last admin', async () => {
    const a = await actions('users');
    expect(await a.create!(post({ name: 'bob', role: 'viewer', password: 'bob-password-123', confirm: 'bob-password-123' }))).toMatchObject(
      { created: 'bob' },
    );
    expect(await a.create!(post({ name: 'eve', role: 'viewer', password: 'eve-password-123', confirm: 'other' }))).toMatchObject({
      status: 422,
      data: { field: 'confirm' },
    });
    expect(await a.create!(post({ name: 'bob', role: 'viewer', password: 'bob-password-123', confirm: 'bob-password-123' }))).toMatchObject(
      { status: 409 },
    );
    expect(await a.role!(post({ name: 'bob', role: 'operator' }))).toMatchObject({ changed: 'bob' });
    expect((await getUser(db, 'bob'))?.role).toBe('operator');
    expect(await a.role!(post({ name: 'ada', role: 'viewer' }))).toMatchObject({ status: 409 }); // the last admin
    expect(await a.password!(post({ name: 'bob', password: 'bob-password-456' }))).toMatchObject({ reset: 'bob' });
    expect(await verifyLogin(db, 'bob', 'bob-password-456')).not.toBeNull();
    expect(await a.remove!(post({ name: 'ada' }))).toMatchObject({ status: 409 });
    expect(await a.remove!(post({ name: 'nobody' }))).toMatchObject({ status: 404 });
    expect(await a.remove!(post({ name: 'bob' }))).toMatchObject({ removed: 'bob' });
    const users = (await (await import('./users/+page.server.ts')).load(get())) as { users: { name: string }[] };
    expect(users.users.map((u) => u.name)).toEqual(['ada']);
  });

  it('keys and account: make a key shown once, revoke own and (admin) anyone’s, change the password', async () => {
    const viewer = await createUser(db, { name: 'vic', role: 'viewer', password: 'vic-password-123' });
    const account = await actions('account');
    const made = (await account.create!(post({ name: 'grafana', expires_days: '30' }, viewer))) as { key: string };
    expect(made.key).toMatch(/^vgl_/);
    expect(await account.create!(post({ name: 'x', expires_days: '0' }, viewer))).toMatchObject({
      status: 422,
      data: { field: 'expires_days' },
    });
    const [key] = await listApiKeys(db, { userId: viewer.id });
    expect(key?.expires_at).not.toBeNull();
    const others = await createApiKey(db, admin.id, 'ci');
    expect(await account.revoke!(post({ id: String(others.info.id) }, viewer))).toMatchObject({ status: 404 }); // not theirs
    expect(await account.revoke!(post({ id: String(key!.id) }, viewer))).toMatchObject({ revoked: 'grafana' });
    const keys = await actions('keys');
    expect(await keys.revoke!(post({ id: String(others.info.id) }))).toMatchObject({ revoked: 'ci' });
    expect(await keys.revoke!(post({ id: '424242' }))).toMatchObject({ status: 404 });
    const listed = (await (await import('./keys/+page.server.ts')).load(get())) as { keys: { revoked_at: string | null }[] };
    expect(listed.keys.every((k) => k.revoked_at !== null)).toBe(true);
    const mine = (await (await import('../account/+page.server.ts')).load(get(viewer))) as { keys: unknown[] };
    expect(mine.keys).toHaveLength(1);

    expect(
      await account.password!(post({ current: 'wrong', password: 'vic-password-456', confirm: 'vic-password-456' }, viewer)),
    ).toMatchObject({
      status: 422,
      data: { field: 'current' },
    });
    expect(
      await account.password!(post({ current: 'vic-password-123', password: 'vic-password-456', confirm: 'x' }, viewer)),
    ).toMatchObject({
      status: 422,
      data: { field: 'confirm' },
    });
    expect(
      await account.password!(post({ current: 'vic-password-123', password: 'vic-password-456', confirm: 'vic-password-456' }, viewer)),
    ).toEqual({
      action: 'password',
      changed: true,
    });
    expect(await verifyLogin(db, 'vic', 'vic-password-456')).not.toBeNull();
    expect(cookies.get('vigil_session')).toBeTruthy(); // signed in again with the new password
    const audit = (await (await import('./audit/+page.server.ts')).load(get(admin, '?page=1'))) as {
      total: number;
      entries: { action: string }[];
    };
    expect(audit.entries.map((e) => e.action)).toContain('user.change_password');
    expect(audit.total).toBeGreaterThan(10);
  });
});
