import { randomUUID } from 'node:crypto';
import type { EnrolClaims } from '@vigil/core/enrolment';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTarget,
  approveTarget,
  createEnrolmentToken,
  type Database,
  type EnrolmentError,
  type EnrolRequest,
  enrolHost,
  getTargetByName,
  listEnrolmentTokens,
  queryTargets,
  relayedTargets,
  rememberNonce,
  revokeEnrolmentToken,
  targetByThumbprint,
} from './index.js';
import { testDatabases } from './testing.js';

describe.each(testDatabases())('enrolment on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterAll(() => drop());

  const claims = (over: Partial<EnrolClaims> = {}): EnrolClaims => ({
    name: 'pi-1',
    url: 'http://10.0.0.5:9110/metrics',
    connect: false,
    labels: {},
    metadata: { os: 'Debian GNU/Linux 12', cores: 4 },
    ...over,
  });
  /** A request as the console makes it from a verified message: a fresh jti each time unless given. */
  const request = (key: string, token: string | undefined, over: Partial<EnrolClaims> = {}, jti = randomUUID()): EnrolRequest => ({
    token,
    thumbprint: key,
    jwk: { kty: 'OKP', crv: 'Ed25519', x: key },
    jti,
    jtiExpiresAt: new Date(Date.now() + 180_000),
    claims: claims(over),
    relayUrl: (id) => `http://console:3000/api/v1/connect/${id}/metrics`,
  });
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'enrolled',
      (e: EnrolmentError) => `${e.code}: ${e.message}`,
    );

  it('makes tokens shown once and kept hashed, with uses left, and refuses bad ones', async () => {
    const { token, info } = await createEnrolmentToken(db, { name: 'rack-a', maxUses: 2, labels: { rack: 'a' }, createdBy: 'ada' });
    expect(token).toMatch(/^vge_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'rack-a', prefix: token.slice(0, 8), uses: 0, uses_left: 2, usable: true, labels: { rack: 'a' } });
    expect(info).not.toHaveProperty('token_hash');
    expect(JSON.stringify(await db.selectFrom('enrolment_tokens').selectAll().execute())).not.toContain(token);
    await expect(createEnrolmentToken(db, { name: 'rack-a', createdBy: 'ada' })).rejects.toMatchObject({ code: 'exists' });
    await expect(createEnrolmentToken(db, { name: ' ', createdBy: 'ada' })).rejects.toMatchObject({ code: 'invalid' });
    await expect(createEnrolmentToken(db, { name: 'x', maxUses: 0, createdBy: 'ada' })).rejects.toThrow(/max_uses/);
    await expect(createEnrolmentToken(db, { name: 'x', expiresAt: new Date(Date.now() - 1000), createdBy: 'ada' })).rejects.toThrow(
      /expires_at/,
    );
  });

  it('enrols new keys with a usable token, and refuses the missing, unknown, revoked, expired and used up, saying why', async () => {
    const { token } = await createEnrolmentToken(db, { name: 'pair', maxUses: 2, labels: { rack: 'b', role: 'any' }, createdBy: 'ada' });
    const first = await enrolHost(db, request('key-1', token, { name: 'node-1', labels: { role: 'db' } }));
    expect(first).toMatchObject({ created: true, tokenName: 'pair' });
    expect(first.target).toMatchObject({
      name: 'node-1',
      url: 'http://10.0.0.5:9110/metrics',
      labels: { rack: 'b', role: 'db' },
      source: 'enrolment',
      key_thumbprint: 'key-1',
      pending_approval: false,
      paused: false,
      metadata: { os: 'Debian GNU/Linux 12', cores: 4 },
    });
    expect(first.target.token).toMatch(/^vgs_/);
    await enrolHost(db, request('key-2', token, { name: 'node-2' }));
    expect(await refusal(enrolHost(db, request('key-3', token, { name: 'node-3' })))).toBe(
      'token_used_up: the enrolment token "pair" has enrolled its 2 hosts already; ask an admin for another',
    );
    expect((await listEnrolmentTokens(db)).find((t) => t.name === 'pair')).toMatchObject({ uses: 2, uses_left: 0, usable: false });
    expect(await refusal(enrolHost(db, request('key-3', undefined)))).toMatch(/^token_missing: .*VIGIL_ENROL_TOKEN/);
    expect(await refusal(enrolHost(db, request('key-3', 'vge_not-one')))).toMatch(/^token_unknown: /);
    const revoked = await createEnrolmentToken(db, { name: 'revoked', createdBy: 'ada' });
    expect((await revokeEnrolmentToken(db, revoked.info.id))?.usable).toBe(false);
    expect(await revokeEnrolmentToken(db, 999_999)).toBeNull();
    expect(await refusal(enrolHost(db, request('key-3', revoked.token)))).toMatch(/^token_revoked: .*"revoked" was revoked/);
    const old = await createEnrolmentToken(db, { name: 'old', expiresAt: new Date(Date.now() + 1000), createdBy: 'ada' });
    await db
      .updateTable('enrolment_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', old.info.id)
      .execute();
    expect(await refusal(enrolHost(db, request('key-3', old.token)))).toMatch(/^token_expired: .*"old" expired at/);
    const open = await createEnrolmentToken(db, { name: 'open', createdBy: 'ada' });
    expect(await refusal(enrolHost(db, request('key-3', open.token, { url: undefined })))).toMatch(/^invalid: url: .*VIGIL_ADVERTISE_URL/);
    // Nothing was made by a refusal.
    expect(await targetByThumbprint(db, 'key-3')).toBeUndefined();
  });

  it('refuses a replayed request, and enrols a known key again without a token, updated', async () => {
    const { token } = await createEnrolmentToken(db, { name: 'once', maxUses: 1, labels: { site: 'home' }, createdBy: 'ada' });
    const jti = randomUUID();
    const r = await enrolHost(db, request('key-r', token, { name: 'restarts' }, jti));
    expect(await refusal(enrolHost(db, request('key-r', token, { name: 'restarts' }, jti)))).toMatch(/^replayed: /);
    // Restarted: no token (used up anyway), a label and its URL changed: the same target, updated.
    const again = await enrolHost(
      db,
      request('key-r', undefined, {
        name: 'restarts',
        url: 'http://10.0.0.6:9110/metrics',
        labels: { role: 'db' },
        metadata: { cores: 8 },
      }),
    );
    expect(again).toMatchObject({ created: false, tokenId: null });
    expect(again.target).toMatchObject({
      id: r.target.id,
      url: 'http://10.0.0.6:9110/metrics',
      labels: { site: 'home', role: 'db' },
      metadata: { cores: 8 },
    });
    expect(again.target.token).toBe(r.target.token);
    // Now it connects out: its URL is the console's relay.
    const out = await enrolHost(db, request('key-r', undefined, { name: 'restarts', url: undefined, connect: true }));
    expect(out.target).toMatchObject({ connects_out: true, url: `http://console:3000/api/v1/connect/${r.target.id}/metrics` });
    expect(await rememberNonce(db, jti, new Date(Date.now() + 1000))).toBe(false);
    expect(await rememberNonce(db, randomUUID(), new Date(Date.now() + 1000))).toBe(true);
  });

  it('enrols a second key asking for a taken name as a host of its own, named apart, never taking the first', async () => {
    const { token } = await createEnrolmentToken(db, { name: 'image', createdBy: 'ada' });
    await addTarget(db, { name: 'golden', url: 'http://by-hand/metrics' });
    const a = await enrolHost(db, request('key-a', token, { name: 'golden' }));
    const b = await enrolHost(db, request('key-b', token, { name: 'golden' }));
    expect([a.target.name, a.conflict, b.target.name, b.conflict]).toEqual(['golden-2', 'golden', 'golden-3', 'golden']);
    expect(b.target.metadata.name_conflict).toBe('golden');
    // The hand-added one is untouched; a restart of the second keeps its name and the conflict said.
    expect((await queryTargets(db, { q: 'golden' })).items.map((t) => [t.name, t.url])).toEqual([
      ['golden', 'http://by-hand/metrics'],
      ['golden-2', 'http://10.0.0.5:9110/metrics'],
      ['golden-3', 'http://10.0.0.5:9110/metrics'],
    ]);
    const again = await enrolHost(db, request('key-b', undefined, { name: 'golden' }));
    expect(again.target).toMatchObject({ name: 'golden-3', metadata: { name_conflict: 'golden' } });
  });

  it('lets two hosts race for the last use of a token: one has it', async () => {
    const { token } = await createEnrolmentToken(db, { name: 'last', maxUses: 1, createdBy: 'ada' });
    const results = await Promise.all(['race-1', 'race-2'].map((k) => refusal(enrolHost(db, request(k, token, { name: k })))));
    expect(results.sort()).toEqual(['enrolled', expect.stringMatching(/^token_used_up: /)]);
  });

  it('keeps a host of a token requiring approval paused and pending until approved', async () => {
    const { token } = await createEnrolmentToken(db, { name: 'gated', requireApproval: true, createdBy: 'ada' });
    const r = await enrolHost(db, request('key-g', token, { name: 'gated-1', metadata: { provider: 'hetzner', region: 'fsn1' } }));
    expect(r.target).toMatchObject({ pending_approval: true, paused: true });
    expect((await queryTargets(db, { pending: true })).items.map((t) => t.name)).toEqual(['gated-1']);
    expect((await queryTargets(db, { provider: 'hetzner', region: 'fsn1' })).items.map((t) => t.name)).toEqual(['gated-1']);
    expect((await queryTargets(db, { provider: 'aws' })).items).toEqual([]);
    const approved = await approveTarget(db, r.target.id, 'ada');
    expect(approved?.after).toMatchObject({ pending_approval: false, paused: false, state: 'unknown' });
    const event = await db.selectFrom('events').select(['type', 'message']).where('target_id', '=', r.target.id).executeTakeFirst();
    expect(event).toEqual({ type: 'approved', message: 'gated-1 approved by ada' });
    // Approving again changes nothing; an unknown id is null.
    expect((await approveTarget(db, r.target.id, 'ada'))?.before.pending_approval).toBe(false);
    expect(await approveTarget(db, 999_999, 'ada')).toBeNull();
    expect((await queryTargets(db, { pending: false, q: 'gated' })).items.map((t) => t.name)).toEqual(['gated-1']);
    expect((await getTargetByName(db, 'gated-1'))?.id).toBe(r.target.id);
    expect(await getTargetByName(db, 'nobody')).toBeUndefined();
    // What the relay keeps of connected hosts: those asked for that exist, nothing for none.
    expect(await relayedTargets(db, [r.target.id, 999_999])).toEqual([
      { id: r.target.id, name: 'gated-1', key_thumbprint: 'key-g', connects_out: false, token: r.target.token, timeout_seconds: 10 },
    ]);
    expect(await relayedTargets(db, [])).toEqual([]);
  });
});
