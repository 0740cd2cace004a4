import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLOSE_REMOVED, CLOSE_REPLACED, encodeResponse } from '@vigil/core/connect';
import { CONNECT_PATH, ENROL_TYPES, type HostIdentity, newHostIdentity, signHostMessage } from '@vigil/core/enrolment';
import { until } from '@vigil/core/testing';
import { addTarget, createDb, createUser, type Database, listAudit, migrateToLatest, startEmbeddedPostgres } from '@vigil/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { GET as relayRoute } from '../../routes/api/v1/connect/[id]/[endpoint]/+server';
import type { Actor } from './actor';
import { type ConnectHub, connectHub, RelayError } from './connect';
import { getDb } from './db';
import {
  approveHost,
  deregister,
  enrol,
  listEnrolmentTokenViews,
  makeEnrolmentToken,
  rejectHost,
  revokeEnrolmentTokenById,
} from './enrolment';
import { refusalOf } from './errors';

// The use cases as the API calls them, with requests signed as an exporter signs them, against a database served over the wire.
describe('enrolment use cases', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-enrol-'));
  let stop: () => Promise<void>;
  let admin: Actor;
  let viewer: Actor;
  let db: Kysely<Database>;
  beforeAll(async () => {
    const server = await startEmbeddedPostgres(dir);
    stop = server.stop;
    db = await createDb(server.url, { max: 1 });
    await migrateToLatest(db);
    admin = { user: await createUser(db, { name: 'ada', role: 'admin', password: 'ada-password-1' }), clientAddress: '192.0.2.1' };
    viewer = { user: await createUser(db, { name: 'vic', role: 'viewer', password: 'vic-password-1' }), clientAddress: null };
    vi.stubEnv('DATABASE_URL', server.url);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await db.destroy();
    await (await getDb()).destroy();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return refusalOf(err);
    }
    throw new Error('accepted');
  };
  const signed = async (id: HostIdentity, claims: Record<string, unknown>, typ: string = ENROL_TYPES.enrol) =>
    `Bearer ${await signHostMessage(id, typ, claims)}`;
  const claims = (name: string, over: Record<string, unknown> = {}) => ({
    name,
    url: `http://${name}.lan:9110/metrics`,
    connect: false,
    labels: { role: 'web' },
    metadata: { provider: 'home', cores: 2 },
    ...over,
  });

  it('makes, lists and revokes tokens, audited, the token shown once', async () => {
    const made = await makeEnrolmentToken(admin, { name: 'rack-a', max_uses: 3, labels: { rack: 'a' }, require_approval: false });
    expect(made).toMatchObject({ name: 'rack-a', uses: 0, uses_left: 3, usable: true, labels: { rack: 'a' }, created_by: 'ada' });
    expect(made.token).toMatch(/^vge_/);
    const listed = await listEnrolmentTokenViews();
    expect(JSON.stringify(listed)).not.toContain(made.token);
    expect(await refusal(makeEnrolmentToken(admin, { name: 'rack-a' }))).toMatchObject({ status: 409 });
    expect(await refusal(makeEnrolmentToken(admin, { name: 'x', max_uses: 0 }))).toMatchObject({ status: 422, field: 'max_uses' });
    expect(await refusal(makeEnrolmentToken(admin, { name: 'x', labels: { job: 'x' } }))).toMatchObject({ status: 422, field: 'labels' });
    const revoked = await revokeEnrolmentTokenById(admin, made.id);
    expect(revoked).toMatchObject({ usable: false, revoked_at: expect.any(String) });
    expect(await refusal(revokeEnrolmentTokenById(admin, 999_999))).toMatchObject({ status: 404 });
    const actions = (await listAudit(db, { limit: 10, offset: 0 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['enrolment_token.create', 'enrolment_token.revoke']));
    expect(JSON.stringify((await listAudit(db, { limit: 10, offset: 0 })).rows)).not.toContain(made.token);
  });

  it('enrols a host once with a token, again by its key, and refuses what is wrong with the status it deserves', async () => {
    const { token } = await makeEnrolmentToken(admin, { name: 'one', max_uses: 1 });
    const host = await newHostIdentity();
    const first = await enrol(await signed(host, claims('web-1')), { enrolment_token: token }, '10.0.0.5');
    expect(first).toMatchObject({ name: 'web-1', created: true, pending: false, signed: null });
    expect(first.credential).toMatch(/^vgs_/);
    const again = await enrol(await signed(host, claims('web-1', { labels: { role: 'db' } })), {}, '10.0.0.5');
    expect(again).toMatchObject({ target_id: first.target_id, created: false, credential: first.credential });
    const audit = (await listAudit(db, { limit: 50, offset: 0 })).rows.filter((r) => r.action === 'host.enrol');
    expect(audit.map((r) => [r.user_name, r.client_address])).toEqual([['enrolment token "one"', '10.0.0.5']]);
    expect(JSON.stringify(audit)).not.toContain(first.credential);

    const other = await newHostIdentity();
    expect(await refusal(enrol(null, {}, null))).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(await refusal(enrol('Bearer not-a-jws', {}, null))).toMatchObject({ status: 400, code: 'malformed' });
    expect(await refusal(enrol(await signed(other, claims('web-2')), {}, null))).toMatchObject({ status: 401, code: 'token_missing' });
    expect(await refusal(enrol(await signed(other, claims('web-2')), { enrolment_token: token }, null))).toMatchObject({
      status: 403,
      code: 'token_used_up',
    });
    expect(await refusal(enrol(await signed(other, claims('web-2')), { enrolment_token: 'vge_x' }, null))).toMatchObject({ status: 401 });
    expect(await refusal(enrol(await signed(other, claims('-bad-')), {}, null))).toMatchObject({ status: 422, field: 'name' });
    expect(await refusal(enrol(await signed(other, claims('web-2'), ENROL_TYPES.connect), {}, null))).toMatchObject({ status: 400 });
    // The same signed request twice: the second is a replay.
    const once = await signed(host, claims('web-1'));
    await enrol(once, {}, null);
    expect(await refusal(enrol(once, {}, null))).toMatchObject({ status: 409, code: 'replayed' });
  });

  it('lets admins only approve and reject hosts waiting for approval', async () => {
    const { token } = await makeEnrolmentToken(admin, { name: 'gated', require_approval: true });
    const a = await enrol(await signed(await newHostIdentity(), claims('gated-a')), { enrolment_token: token }, null);
    const b = await enrol(await signed(await newHostIdentity(), claims('gated-b')), { enrolment_token: token }, null);
    expect([a.pending, b.pending]).toEqual([true, true]);
    expect(await refusal(approveHost(viewer, a.target_id))).toMatchObject({ status: 403 });
    expect(await approveHost(admin, a.target_id)).toMatchObject({ name: 'gated-a', pending_approval: false, paused: false });
    expect(await refusal(approveHost(admin, a.target_id))).toMatchObject({ status: 409 });
    expect(await refusal(rejectHost(admin, a.target_id))).toMatchObject({ status: 409 });
    expect(await refusal(rejectHost(viewer, b.target_id))).toMatchObject({ status: 403 });
    expect(await rejectHost(admin, b.target_id)).toMatchObject({ name: 'gated-b' });
    expect(await refusal(rejectHost(admin, b.target_id))).toMatchObject({ status: 404 });
    expect(await refusal(approveHost(admin, 999_999))).toMatchObject({ status: 404 });
  });

  it('deregisters a host by its own signed request only', async () => {
    const { token } = await makeEnrolmentToken(admin, { name: 'leaving' });
    const host = await newHostIdentity();
    const r = await enrol(await signed(host, claims('leaver')), { enrolment_token: token }, null);
    expect(await refusal(deregister(await signed(await newHostIdentity(), {}, ENROL_TYPES.deregister), null))).toMatchObject({
      status: 404,
    });
    const bye = await signed(host, {}, ENROL_TYPES.deregister);
    expect(await deregister(bye, '10.0.0.9')).toMatchObject({ id: r.target_id, name: 'leaver' });
    expect(await refusal(deregister(bye, null))).toMatchObject({ status: 409, code: 'replayed' });
    expect((await listAudit(db, { limit: 5, offset: 0 })).rows[0]).toMatchObject({ action: 'host.deregister', user_name: 'host leaver' });
  });

  describe('the connect hub', () => {
    let server: http.Server;
    let hub: ConnectHub;
    let base: string;
    let hostId: number;
    let host: HostIdentity;
    beforeAll(async () => {
      // The console's own hub: the relay route uses it.
      hub = await connectHub();
      server = http.createServer((_req, res) => res.writeHead(404).end());
      server.on('upgrade', (req, socket, head) => void hub.handleUpgrade(req, socket, head));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { token } = await makeEnrolmentToken(admin, { name: 'nat' });
      host = await newHostIdentity();
      hostId = (await enrol(await signed(host, claims('nat-1', { url: undefined, connect: true })), { enrolment_token: token }, null))
        .target_id;
    });
    afterAll(async () => {
      hub.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    /** Dials as an exporter does; resolves with the open socket or the refusal's status and body. */
    const dial = async (id: HostIdentity, p = CONNECT_PATH) => {
      const authorization = await signed(id, {}, ENROL_TYPES.connect);
      return new Promise<WebSocket | { status: number; body: string }>((resolve) => {
        const ws = new WebSocket(base + p, { headers: { authorization } });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
      });
    };
    /** Answers each relayed request the way an exporter does. */
    const answer = (ws: WebSocket, body: string) =>
      ws.on('message', (d: Buffer) => {
        const f = JSON.parse(d.toString());
        if (f.type === 'request')
          ws.send(encodeResponse({ id: f.id, status: 200, headers: { 'content-type': 'text/plain' } }, Buffer.from(`${body} ${f.path}`)));
      });

    it('takes a connected host, relays to it, and refuses the unknown, the not connecting out, and a wrong path', async () => {
      expect(await dial(await newHostIdentity())).toMatchObject({
        status: 404,
        body: expect.stringContaining('no host is enrolled with this key'),
      });
      expect(await dial(host, '/api/v1/elsewhere')).toMatchObject({ status: 404 });
      const direct = await newHostIdentity();
      const { token } = await makeEnrolmentToken(admin, { name: 'direct' });
      await enrol(await signed(direct, claims('direct-1')), { enrolment_token: token }, null);
      expect(await dial(direct)).toMatchObject({ status: 409, body: expect.stringContaining('VIGIL_CONNECT=1') });
      await expect(hub.relay(hostId, { method: 'GET', path: '/metrics', headers: {} }, 1)).rejects.toMatchObject({ code: 'not_connected' });

      const ws = (await dial(host)) as WebSocket;
      await until('the hub to hold it', 5, async () => hub.connected(hostId));
      answer(ws, 'from nat-1');
      const r = await hub.relay(hostId, { method: 'GET', path: '/metrics', headers: {} }, 5);
      expect({ ...r, body: r.body.toString() }).toEqual({
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body: 'from nat-1 /metrics',
      });
      expect(hub.size).toBe(1);
      // A second socket of the same host takes the place of the first.
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      const second = (await dial(host)) as WebSocket;
      expect(await closed).toBe(CLOSE_REPLACED);
      // Silent: a relay times out, saying who.
      await expect(hub.relay(hostId, { method: 'GET', path: '/metrics', headers: {} }, 0.2)).rejects.toThrow(
        /nat-1 did not answer within 0.2 s/,
      );
      // It goes: what waits is told at once.
      const waiting = hub.relay(hostId, { method: 'GET', path: '/metrics', headers: {} }, 30);
      second.close();
      await expect(waiting).rejects.toBeInstanceOf(RelayError);
      await until('the hub to let it go', 5, async () => !hub.connected(hostId));
    });

    it("relays through the route with the host's credential or an API key, and says why it cannot", async () => {
      const relay = (id: number, endpoint: string, headers: Record<string, string> = {}, principal: unknown = null) => {
        const url = new URL(`http://127.0.0.1:3000/api/v1/connect/${id}/${endpoint}`);
        return relayRoute({
          params: { id: String(id), endpoint },
          url,
          request: new Request(url, { headers }),
          locals: { principal },
          route: { id: '/api/v1/connect/[id]/[endpoint]' },
          getClientAddress: () => '127.0.0.1',
        } as never);
      };
      const credential = (await db.selectFrom('targets').select('token').where('id', '=', hostId).executeTakeFirstOrThrow()).token!;
      const bearer = { authorization: `Bearer ${credential}` };
      expect((await relay(hostId, 'metrics', bearer)).status).toBe(503);
      const ws = (await dial(host)) as WebSocket;
      answer(ws, 'relayed');
      await until('the hub to hold it', 5, async () => hub.connected(hostId));
      const ok = await relay(hostId, 'metrics', { ...bearer, 'x-prometheus-scrape-timeout-seconds': '5', cookie: 'x=1' });
      expect([ok.status, await ok.text(), ok.headers.get('cache-control')]).toEqual([200, 'relayed /metrics', 'no-store']);
      expect((await relay(hostId, 'metrics')).status).toBe(401);
      expect((await relay(hostId, 'metrics', { authorization: 'Bearer vgs_wrong' })).status).toBe(401);
      expect((await relay(999_999, 'metrics', bearer)).status).toBe(401);
      expect((await relay(999_999, 'metrics', {}, { user: admin.user })).status).toBe(404);
      expect((await relay(hostId, 'pty', bearer)).status).toBe(404);
      const viaKey = await relay(hostId, 'health', {}, { user: viewer.user });
      expect(await viaKey.text()).toBe('relayed /health');
      // A credential changed in the database is what the relay checks after the next sweep (it keeps no stale one).
      await db.updateTable('targets').set({ token: 'vgs_rotated-credential' }).where('id', '=', hostId).execute();
      expect((await relay(hostId, 'metrics', bearer)).status).toBe(200);
      expect(await hub.sweep()).toBe(0);
      expect((await relay(hostId, 'metrics', bearer)).status).toBe(401);
      expect((await relay(hostId, 'metrics', { authorization: 'Bearer vgs_rotated-credential' })).status).toBe(200);
      expect(hub.host(hostId)).toMatchObject({ name: 'nat-1', token: 'vgs_rotated-credential' });
      const direct = (await db.selectFrom('targets').select('id').where('name', '=', 'direct-1').executeTakeFirstOrThrow()).id;
      expect((await relay(direct, 'metrics', {}, { user: admin.user })).status).toBe(409);
      ws.close();
      await until('the hub to let it go', 5, async () => !hub.connected(hostId));
    });

    it('asks a host to dial back for a terminal, and closes the socket of a removed host at the sweep', async () => {
      const ws = (await dial(host)) as WebSocket;
      await until('the hub to hold it', 5, async () => hub.connected(hostId));
      ws.on('message', async (d: Buffer) => {
        const f = JSON.parse(d.toString());
        if (f.type === 'pty') await dial(host, `${CONNECT_PATH}/pty/${f.sid}`);
      });
      const tunnel = await hub.tunnel(hostId);
      expect(tunnel.writable).toBe(true);
      tunnel.destroy();
      // A dial-back nobody waits for is refused.
      expect(await dial(host, `${CONNECT_PATH}/pty/nobody-waits-for-this-one`)).toMatchObject({ status: 404 });
      expect(await hub.sweep()).toBe(0);
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      await db.deleteFrom('targets').where('id', '=', hostId).execute();
      expect(await hub.sweep()).toBe(1);
      expect(await closed).toBe(CLOSE_REMOVED);
      await expect(hub.tunnel(hostId)).rejects.toMatchObject({ code: 'not_connected' });
      await addTarget(db, { name: 'unrelated', url: 'http://u/metrics' });
    });
  });
});
