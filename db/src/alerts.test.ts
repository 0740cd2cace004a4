import { DEFAULT_RULES } from '@vigil/core/alerts';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertRuleError,
  activeSilences,
  addAlertRule,
  addChannel,
  addSilence,
  addTarget,
  alertGroups,
  alertNews,
  applyAlertChanges,
  claimAlertGroup,
  type Database,
  expireSilence,
  finishAlertGroup,
  getAlert,
  listAlertRules,
  listAlerts,
  listSilences,
  openAlerts,
  removeAlertRule,
  scheduleAlertGroup,
  seedDefaultAlertRules,
  setAlertsHeld,
  type Target,
  updateAlertRule,
} from './index.js';
import { testDatabases } from './testing.js';

describe.each(testDatabases())('alerts on $name', (engine) => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let web: Target;
  let dbHost: Target;
  beforeAll(async () => {
    ({ db, drop } = await engine.open());
    web = await addTarget(db, { name: 'web-1', url: 'http://web-1:9110/metrics', labels: { rack: 'a' } });
    dbHost = await addTarget(db, { name: 'db-1', url: 'http://db-1:9110/metrics', labels: { rack: 'b', role: 'db' } });
  });
  afterAll(() => drop());

  const caught = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err as AlertRuleError;
    }
    throw new Error('did not throw');
  };

  it('saves rules checked by the one schema, naming the field that is wrong, and warns of a selector that picks no host', async () => {
    const saved = await addAlertRule(db, {
      name: 'DiskFull',
      kind: 'threshold',
      figure: 'disk_usage_percent',
      value: 90,
      selector: 'rack=a',
    });
    expect(saved.warning).toBeNull();
    expect(saved.rule.spec).toMatchObject({ kind: 'threshold', value: 90, for_seconds: 0, severity: 'warning' });
    const lonely = await addAlertRule(db, { name: 'Lonely', kind: 'probe', selector: 'rack=z' });
    expect(lonely.warning).toContain('matches no host today');
    const bad = await caught(addAlertRule(db, { name: 'Bad', kind: 'threshold', figure: 'nope', value: 1 }));
    expect([bad.code, bad.field]).toEqual(['invalid', 'figure']);
    expect(bad.message).toMatch(/^figure: /);
    expect((await caught(addAlertRule(db, { name: 'Bad', kind: 'bogus' }))).message).toBe(
      'kind: kind must be one of threshold, disk_full, container, probe, certificate',
    );
    expect((await caught(addAlertRule(db, { name: 'Bad', kind: 'probe', for_seconds: -1 }))).field).toBe('for_seconds');
    expect((await caught(addAlertRule(db, { name: 'Bad', kind: 'probe', selector: 'rack' }))).field).toBe('selector');
    expect((await caught(addAlertRule(db, { name: 'Bad', kind: 'probe', colour: 'red' }))).message).toBe('kind: unknown field "colour"');
    const dup = await caught(addAlertRule(db, { name: 'DiskFull', kind: 'probe' }));
    expect([dup.code, dup.field]).toEqual(['exists', 'name']);
    // Changed: another rule's name is refused, its own is fine.
    expect((await caught(updateAlertRule(db, lonely.rule.id, { name: 'DiskFull', kind: 'probe' }))).code).toBe('exists');
    const moved = await updateAlertRule(db, lonely.rule.id, { name: 'Lonely', kind: 'probe', selector: 'role=db' });
    expect(moved?.warning).toBeNull();
    expect(await updateAlertRule(db, 99_999, { name: 'X', kind: 'probe' })).toBeNull();
    expect((await removeAlertRule(db, lonely.rule.id))?.name).toBe('Lonely');
    expect(await removeAlertRule(db, lonely.rule.id)).toBeNull();
  });

  it('seeds the defaults once, leaving rules of the same name alone', async () => {
    const before = (await listAlertRules(db)).length;
    const added = await seedDefaultAlertRules(db);
    expect(added).toBe(DEFAULT_RULES.length);
    expect(await seedDefaultAlertRules(db)).toBe(0);
    expect((await listAlertRules(db)).length).toBe(before + DEFAULT_RULES.length);
  });

  it('keeps an alert from pending to firing to resolved, forgets a pending one that cleared, and lists them', async () => {
    const rule = (await listAlertRules(db)).find((r) => r.name === 'DiskFull')!;
    const cond = {
      ruleId: rule.id,
      subject: '',
      severity: 'critical' as const,
      value: 95,
      summary: 'disk_usage_percent is 95%',
      forSeconds: 60,
    };
    const t0 = new Date('2026-12-04T10:00:00Z');
    const target = { id: web.id, name: web.name, labels: web.labels };
    expect(
      await applyAlertChanges(db, [
        { target, ruleName: rule.name, change: { to: 'pending', condition: cond, startedAt: t0.getTime() / 1000 }, at: t0 },
      ]),
    ).toBe(1);
    // Another writer opening the same alert is a no-op, not a second row.
    expect(
      await applyAlertChanges(db, [
        { target, ruleName: rule.name, change: { to: 'pending', condition: cond, startedAt: t0.getTime() / 1000 }, at: t0 },
      ]),
    ).toBe(0);
    const open = (await openAlerts(db, [web.id, dbHost.id])).get(web.id)!;
    expect(open).toEqual([{ id: expect.any(Number), ruleId: rule.id, subject: '', state: 'pending', startedAt: t0.getTime() / 1000 }]);
    const t1 = new Date(t0.getTime() + 60_000);
    await applyAlertChanges(db, [
      { target, ruleName: rule.name, change: { to: 'firing', condition: cond, startedAt: t0.getTime() / 1000 }, at: t1 },
    ]);
    const firing = await getAlert(db, open[0]!.id);
    expect(firing).toMatchObject({
      state: 'firing',
      fired_at: t1,
      started_at: t0,
      rule_name: 'DiskFull',
      target_name: 'web-1',
      severity: 'critical',
    });
    expect(firing!.labels).toEqual({ rack: 'a', alertname: 'DiskFull', instance: 'web-1', host: 'web-1', severity: 'critical' });
    // A container alert on the other host, pending then cleared: no history left.
    const other = { id: dbHost.id, name: dbHost.name, labels: dbHost.labels };
    const c2 = { ...cond, subject: 'container:pg' };
    await applyAlertChanges(db, [
      { target: other, ruleName: rule.name, change: { to: 'pending', condition: c2, startedAt: t0.getTime() / 1000 }, at: t0 },
    ]);
    expect((await listAlerts(db, { state: 'open' })).total).toBe(2);
    expect(
      await applyAlertChanges(db, [
        { target: other, ruleName: rule.name, change: { to: 'cleared', ruleId: rule.id, subject: 'container:pg' }, at: t1 },
      ]),
    ).toBe(1);
    const t2 = new Date(t1.getTime() + 30_000);
    await applyAlertChanges(db, [{ target, ruleName: rule.name, change: { to: 'resolved', ruleId: rule.id, subject: '' }, at: t2 }]);
    expect((await listAlerts(db, { state: 'open' })).total).toBe(0);
    const all = await listAlerts(db, { state: 'all' });
    expect(all.rows.map((a) => [a.target_name, a.state, a.resolved_at])).toEqual([['web-1', 'resolved', t2]]);
    expect((await listAlerts(db, { state: 'resolved', targetId: dbHost.id })).total).toBe(0);
    expect((await listAlerts(db, { state: 'all', ruleId: rule.id })).total).toBe(1);
    // The same condition again is a new alert, the old one stays history.
    await applyAlertChanges(db, [
      { target, ruleName: rule.name, change: { to: 'firing', condition: cond, startedAt: t2.getTime() / 1000 }, at: t2 },
    ]);
    expect((await listAlerts(db, { state: 'all' })).total).toBe(2);
    const news = await alertNews(db);
    expect(news.alerts.map((a) => [a.target_name, a.state, a.target_state])).toEqual([['web-1', 'firing', 'unknown']]);
    await setAlertsHeld(db, [{ id: news.alerts[0]!.id, inhibited: true, silencedBy: null }]);
    expect((await listAlerts(db, { held: 'inhibited' })).total).toBe(1);
    expect((await listAlerts(db, { held: 'silenced' })).total).toBe(0);
  });

  it('claims a due group once, records what was told, and lists a resolved alert as news until told', async () => {
    const channel = await addChannel(db, { name: 'ops', kind: 'webhook', url: 'http://hooks.example/abc' });
    const [alert] = (await alertNews(db)).alerts;
    const at = new Date('2026-12-04T11:00:00Z');
    await scheduleAlertGroup(db, { channelId: channel.id, key: 'alertname=DiskFull', labels: { alertname: 'DiskFull' }, at });
    // Scheduling again keeps the first time.
    await scheduleAlertGroup(db, { channelId: channel.id, key: 'alertname=DiskFull', labels: { alertname: 'DiskFull' }, at: new Date() });
    expect((await alertGroups(db)).map((g) => g.next_flush_at)).toEqual([at]);
    const claim = { channelId: channel.id, key: 'alertname=DiskFull', lastFlushAt: null, claimant: 'a' };
    expect(await claimAlertGroup(db, claim)).toBe(true);
    expect(await claimAlertGroup(db, { ...claim, claimant: 'b' })).toBe(false);
    await finishAlertGroup(db, { channelId: channel.id, key: claim.key, at, firing: [alert!.id], resolved: [], sent: true });
    // Another replica that saw the group before that send cannot send it again.
    expect(await claimAlertGroup(db, { ...claim, claimant: 'b' })).toBe(false);
    expect((await alertGroups(db))[0]).toMatchObject({ next_flush_at: null, last_flush_at: at });
    const rule = (await listAlertRules(db)).find((r) => r.name === 'DiskFull')!;
    await applyAlertChanges(db, [
      {
        target: { id: web.id, name: web.name, labels: web.labels },
        ruleName: rule.name,
        change: { to: 'resolved', ruleId: rule.id, subject: '' },
        at,
      },
    ]);
    let news = await alertNews(db);
    expect(news.alerts.map((a) => [a.id, a.state])).toEqual([[alert!.id, 'resolved']]);
    expect(news.sends).toEqual([{ alert_id: alert!.id, channel_id: channel.id, firing_sent_at: at, resolved_sent_at: null }]);
    await scheduleAlertGroup(db, { channelId: channel.id, key: claim.key, labels: {}, at });
    expect(await claimAlertGroup(db, { ...claim, lastFlushAt: at })).toBe(true);
    // A failed send is due again later, nothing recorded as told.
    const retryAt = new Date(at.getTime() + 30_000);
    await finishAlertGroup(db, { channelId: channel.id, key: claim.key, at, firing: [], resolved: [alert!.id], sent: false, retryAt });
    expect((await alertGroups(db))[0]!.next_flush_at).toEqual(retryAt);
    expect(await claimAlertGroup(db, { ...claim, lastFlushAt: at })).toBe(true);
    await finishAlertGroup(db, { channelId: channel.id, key: claim.key, at: retryAt, firing: [], resolved: [alert!.id], sent: true });
    news = await alertNews(db);
    expect(news.alerts).toEqual([]);
  });

  it('keeps silences and maintenance windows, refusing what cannot work', async () => {
    const now = new Date('2026-12-06T02:30:00Z');
    const one = await addSilence(db, {
      matchers: 'host=web-1',
      startsAt: new Date('2026-12-06T02:00:00Z'),
      endsAt: new Date('2026-12-06T04:00:00Z'),
      createdBy: 'ada',
      comment: 'disk swap',
    });
    const window = await addSilence(db, {
      matchers: 'rack=b',
      startsAt: new Date('2026-12-01T00:00:00Z'),
      endsAt: new Date('2027-12-01T00:00:00Z'),
      schedule: '0 2 * * 0',
      durationSeconds: 3600,
      createdBy: 'ada',
    });
    expect((await activeSilences(db, now)).map((s) => s.id).sort()).toEqual([one.id, window.id].sort());
    // Monday: the window is closed.
    expect((await activeSilences(db, new Date('2026-12-07T02:30:00Z'))).map((s) => s.id)).toEqual([]);
    await expect(addSilence(db, { matchers: '', startsAt: now, endsAt: now, createdBy: 'ada' })).rejects.toMatchObject({
      field: 'matchers',
    });
    await expect(addSilence(db, { matchers: 'a=b', startsAt: now, endsAt: now, createdBy: 'ada' })).rejects.toMatchObject({
      field: 'ends_at',
    });
    await expect(
      addSilence(db, { matchers: 'a=b', startsAt: now, endsAt: new Date(now.getTime() + 1), createdBy: 'ada', comment: 'x'.repeat(501) }),
    ).rejects.toMatchObject({ field: 'comment' });
    expect((await expireSilence(db, one.id, now))?.ends_at).toEqual(now);
    expect(await expireSilence(db, one.id, now)).toBeNull();
    expect((await listSilences(db, { now })).map((s) => s.id)).toEqual([window.id]);
    expect((await listSilences(db, { all: true })).length).toBe(2);
  });
});
