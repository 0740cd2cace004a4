import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addChannel,
  addTarget,
  applyTransitions,
  ChannelError,
  claimChannel,
  claimChannelDeliveries,
  type Database,
  deliveriesOfEvents,
  dueDeliveries,
  enqueueDeliveries,
  listChannels,
  recordDeliveryAttempt,
  releaseChannel,
  releaseDeliveries,
  removeChannel,
  updateChannel,
} from './index.js';
import { testDatabases } from './testing.js';

describe.each(testDatabases())('notification channels and deliveries on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
  });
  afterAll(() => drop());

  it('adds, lists and removes channels, refusing bad ones with a reason', async () => {
    await addChannel(db, { name: 'ops', kind: 'webhook', url: 'http://hooks.lan/vigil' });
    await addChannel(db, { name: 'am', kind: 'alertmanager', url: 'http://am.lan:9093' });
    expect((await listChannels(db)).map((c) => [c.name, c.kind, c.enabled])).toEqual([
      ['am', 'alertmanager', true],
      ['ops', 'webhook', true],
    ]);
    await expect(addChannel(db, { name: 'ops', kind: 'slack', url: 'https://x/y' })).rejects.toThrow(/exists/);
    await expect(addChannel(db, { name: 'x', kind: 'pigeon', url: 'https://x/y' })).rejects.toThrow(
      /unknown channel kind "pigeon": use webhook, slack, alertmanager, discord, teams, ntfy, gotify, pushover, telegram, email/,
    );
    // Each kind's URL: what it needs is asked for by name.
    const refusal = async (kind: string, url: string, extra: Record<string, unknown> = {}) => {
      try {
        await addChannel(db, { name: 'x', kind, url, ...extra });
      } catch (err) {
        return [(err as ChannelError).field, (err as Error).message];
      }
      throw new Error('accepted');
    };
    expect(await refusal('email', 'https://x/y')).toEqual(['url', "an email channel's URL starts with smtp:// or smtps://, not https:"]);
    expect((await refusal('email', 'smtp://mail.lan?from=a@b'))[1]).toMatch(/needs \?from=<address>&to=/);
    expect((await refusal('pushover', 'https://api.pushover.net/1/messages.json?user=u'))[1]).toMatch(/needs \?token=/);
    expect((await refusal('telegram', 'https://api.telegram.org/botT/sendMessage'))[1]).toMatch(/needs \?chat_id=/);
    expect(await refusal('ntfy', 'https://ntfy.sh/t', { matchers: 'rack' })).toEqual([
      'matchers',
      'matcher "rack": write name=value or name!=value',
    ]);
    expect(await refusal('ntfy', 'https://ntfy.sh/t', { min_severity: 'loud' })).toEqual([
      'min_severity',
      'min_severity is one of info, warning, critical',
    ]);
    expect((await refusal('ntfy', 'https://ntfy.sh/t', { group_by: 'rack, 9x' }))[0]).toBe('group_by');
    expect(await refusal('ntfy', 'https://ntfy.sh/t', { group_wait_seconds: -1 })).toEqual([
      'group_wait_seconds',
      'group_wait_seconds is whole seconds from 0 to 3600',
    ]);
    expect((await refusal('ntfy', 'https://ntfy.sh/t', { repeat_interval_seconds: 1.5 }))[0]).toBe('repeat_interval_seconds');
    const mail = await addChannel(db, {
      name: 'mail',
      kind: 'email',
      url: 'smtps://u:p@mail.lan?from=a@b&to=c@d',
      matchers: ' rack=a ',
      min_severity: 'critical',
      group_by: 'rack',
      group_wait_seconds: 0,
    });
    expect(mail).toMatchObject({
      matchers: 'rack=a',
      min_severity: 'critical',
      group_by: 'rack',
      group_wait_seconds: 0,
      group_interval_seconds: 300,
    });
    const changed = await updateChannel(db, mail.id, {
      matchers: ' rack=b ',
      group_by: ' ',
      enabled: false,
      repeat_interval_seconds: 3600,
    });
    expect(changed).toMatchObject({
      matchers: 'rack=b',
      group_by: 'alertname',
      enabled: false,
      repeat_interval_seconds: 3600,
      min_severity: 'critical',
    });
    expect(await updateChannel(db, mail.id, {})).toMatchObject({ matchers: 'rack=b' });
    await expect(updateChannel(db, mail.id, { min_severity: 'loud' })).rejects.toMatchObject({ field: 'min_severity' });
    expect(await updateChannel(db, 99_999, { enabled: true })).toBeNull();
    expect(await removeChannel(db, 'mail')).toBe(true);
    await expect(addChannel(db, { name: 'x', kind: 'slack', url: 'hooks.slack.com/x' })).rejects.toBeInstanceOf(ChannelError);
    await expect(addChannel(db, { name: 'x', kind: 'slack', url: 'ftp://x/y' })).rejects.toThrow(
      /must start with http:\/\/ or https:\/\/, not ftp:/,
    );
    // The URL is a secret: a refusal never repeats it.
    await expect(addChannel(db, { name: 'x', kind: 'slack', url: 'hooks.slack.com/SECRET' })).rejects.toThrow(/^(?!.*SECRET)/);
    await expect(addChannel(db, { name: 'ops', kind: 'slack', url: 'https://x/y' })).rejects.toMatchObject({
      code: 'exists',
      field: 'name',
    });
    await expect(addChannel(db, { name: 'bad name', kind: 'slack', url: 'https://x/y' })).rejects.toThrow(/channel name/);
    expect(await removeChannel(db, 'am')).toBe(true);
    expect(await removeChannel(db, 'am')).toBe(false);
  });

  it('queues down and recovery events once per channel, retries with backoff, and gives up', async () => {
    const t = await addTarget(db, { name: 'pi-9', url: 'http://pi-9:9110/metrics', labels: { rack: 'b' } });
    const base = Date.now();
    const at = (s: number) => new Date(base + s * 1000);
    await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'up', at: at(0.001), message: 'pi-9 is up' }]);
    await applyTransitions(db, [{ targetId: t.id, from: 'up', to: 'down', at: at(0.002), message: 'pi-9 is down' }]);
    await applyTransitions(db, [{ targetId: t.id, from: 'down', to: 'up', at: at(0.003), message: 'pi-9 is up again' }]);
    // unknown → up is not worth a notification; the other two are, once.
    expect(await enqueueDeliveries(db)).toBe(2);
    expect(await enqueueDeliveries(db)).toBe(0);
    const due = await dueDeliveries(db, at(10));
    expect(due.map((d) => [d.channel.name, d.event.to_state, d.target.name, d.target.labels])).toEqual([
      ['ops', 'down', 'pi-9', { rack: 'b' }],
      ['ops', 'up', 'pi-9', { rack: 'b' }],
    ]);
    await recordDeliveryAttempt(db, due[0]!.id, { sent: true, at: at(10) });
    await recordDeliveryAttempt(db, due[1]!.id, { sent: false, error: 'HTTP 500', retryAt: at(60) });
    expect(await dueDeliveries(db, at(30))).toEqual([]);
    const retry = await dueDeliveries(db, at(61));
    expect(retry.map((d) => [d.id, d.attempts])).toEqual([[due[1]!.id, 1]]);
    await recordDeliveryAttempt(db, due[1]!.id, { sent: false, error: 'HTTP 500 again', retryAt: null });
    expect(await dueDeliveries(db, at(100_000))).toEqual([]);
    const rows = await db.selectFrom('notification_deliveries').select(['status', 'attempts', 'last_error']).orderBy('id').execute();
    expect(rows).toEqual([
      { status: 'sent', attempts: 1, last_error: null },
      { status: 'failed', attempts: 2, last_error: 'HTTP 500 again' },
    ]);
    const byEvent = await deliveriesOfEvents(db, [due[0]!.event.id, due[1]!.event.id, 999_999]);
    expect(
      [...byEvent.entries()].sort((a, b) => a[0] - b[0]).map(([id, ds]) => [id, ds.map((d) => [d.channel, d.kind, d.status, d.attempts])]),
    ).toEqual([
      [due[0]!.event.id, [['ops', 'webhook', 'sent', 1]]],
      [due[1]!.event.id, [['ops', 'webhook', 'failed', 2]]],
    ]);
    expect((await deliveriesOfEvents(db, [])).size).toBe(0);
  });

  it('gives each due delivery to one claimant at a time, until it is recorded or its claim lapses', async () => {
    const t = await addTarget(db, { name: 'pi-10', url: 'http://pi-10:9110/metrics' });
    await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'down', at: new Date(), message: 'pi-10 is down' }]);
    expect(await enqueueDeliveries(db)).toBe(1);
    const later = new Date(Date.now() + 1000);
    // Two replicas asking at once: one gets it, the other nothing.
    const [a, b] = await Promise.all([dueDeliveries(db, later, 100, 'replica-a'), dueDeliveries(db, later, 100, 'replica-b')]);
    expect([a.length, b.length].sort()).toEqual([0, 1]);
    const [d] = [...a, ...b];
    expect(await dueDeliveries(db, later, 100, 'replica-c')).toEqual([]);
    const row = await db
      .selectFrom('notification_deliveries')
      .select(['claimed_by', 'claimed_until'])
      .where('id', '=', d!.id)
      .executeTakeFirstOrThrow();
    expect(row.claimed_by).toBe(a.length ? 'replica-a' : 'replica-b');
    // A claimant that died mid-send: its claim lapses and another replica sends.
    await db
      .updateTable('notification_deliveries')
      .set({ claimed_until: new Date(Date.now() - 1000) })
      .where('id', '=', d!.id)
      .execute();
    expect((await dueDeliveries(db, later, 100, 'replica-c')).map((x) => x.id)).toEqual([d!.id]);
    await recordDeliveryAttempt(db, d!.id, { sent: false, error: 'HTTP 502', retryAt: later });
    // Recorded: the claim is released, and the retry is due to anyone.
    expect((await dueDeliveries(db, later, 100, 'replica-a')).map((x) => x.id)).toEqual([d!.id]);
    await recordDeliveryAttempt(db, d!.id, { sent: true, at: later });
    expect(await dueDeliveries(db, new Date(Date.now() + 100_000), 100, 'replica-b')).toEqual([]);
  });

  it("holds a chat channel's deliveries for its group wait, and lets one replica at a time take a channel's deliveries whole", async () => {
    const chat = await addChannel(db, { name: 'chat', kind: 'slack', url: 'https://hooks.example/chat', group_wait_seconds: 30 });
    const t = await addTarget(db, { name: 'pi-11', url: 'http://pi-11:9110/metrics' });
    const u = await addTarget(db, { name: 'pi-12', url: 'http://pi-12:9110/metrics' });
    const t0 = Date.now() + 1000;
    await applyTransitions(db, [{ targetId: t.id, from: 'unknown', to: 'down', at: new Date(t0), message: 'pi-11 is down' }]);
    await applyTransitions(db, [{ targetId: u.id, from: 'unknown', to: 'down', at: new Date(t0 + 10_000), message: 'pi-12 is down' }]);
    await enqueueDeliveries(db);
    const mine = <T extends { channel: { id: number } }>(ds: T[]) => ds.filter((d) => d.channel.id === chat.id);
    expect(mine(await dueDeliveries(db, new Date(t0 + 29_000), 100, 'a'))).toEqual([]);
    const due = mine(await dueDeliveries(db, new Date(t0 + 30_000), 100, 'a'));
    expect(due.map((d) => [d.target.name, d.next_attempt_at.getTime()])).toEqual([['pi-11', t0 + 30_000]]);
    // One replica at a time sends a grouping channel, and takes all its pending deliveries, waiting ones too.
    expect(await claimChannel(db, chat.id, 'a')).toBe(true);
    expect(await claimChannel(db, chat.id, 'b')).toBe(false);
    expect(await claimChannel(db, chat.id, 'a')).toBe(true);
    const all = await claimChannelDeliveries(db, chat.id, 'a');
    expect(all.map((d) => [d.target.name, d.channel.group_by])).toEqual([
      ['pi-11', 'alertname'],
      ['pi-12', 'alertname'],
    ]);
    expect(await claimChannelDeliveries(db, chat.id, 'b')).toEqual([]);
    // Given back: the other replica may have them.
    await releaseDeliveries(
      db,
      all.map((d) => d.id),
    );
    await releaseDeliveries(db, []);
    await releaseChannel(db, chat.id, 'b'); // not b's: nothing
    expect(await claimChannel(db, chat.id, 'b')).toBe(false);
    await releaseChannel(db, chat.id, 'a');
    expect(await claimChannel(db, chat.id, 'b')).toBe(true);
    expect(mine(await dueDeliveries(db, new Date(t0 + 40_000), 100, 'b')).map((d) => d.target.name)).toEqual(['pi-11', 'pi-12']);
    await removeChannel(db, 'chat');
    // Their events are dated ahead: gone with them, before the next test.
    await db.deleteFrom('targets').where('id', 'in', [t.id, u.id]).execute();
  });

  it('does not send a new channel the events from before it existed', async () => {
    await new Promise((r) => setTimeout(r, 10)); // past the last event's time
    await addChannel(db, { name: 'late', kind: 'slack', url: 'https://hooks.example/late' });
    expect(await enqueueDeliveries(db)).toBe(0);
  });
});
