import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addTarget, applyAlertChanges, createDb, createUser, listAudit, migrateToLatest, startEmbeddedPostgres } from '@vigil/db';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Actor } from './actor';
import {
  alertMatchers,
  changeRule,
  createRule,
  createSilence,
  deleteRule,
  endSilence,
  listAlertViews,
  listRuleViews,
  listSilenceViews,
  ruleFromForm,
  showAlert,
  showRule,
  silenceAlert,
} from './alerts';
import { getDb } from './db';
import { ApiError, refusalOf } from './errors';

// The use cases as the API and the pages call them, against a database served over the wire.
describe('alert use cases', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-alerts-'));
  let stop: () => Promise<void>;
  let actor: Actor;
  let targetId: number;
  beforeAll(async () => {
    const server = await startEmbeddedPostgres(dir);
    stop = server.stop;
    const db = await createDb(server.url, { max: 1 });
    await migrateToLatest(db);
    targetId = (await addTarget(db, { name: 'pi-1', url: 'http://pi-1/metrics', labels: { rack: 'a' } })).id;
    const user = await createUser(db, { name: 'ops', role: 'operator', password: 'ops-password-1' });
    actor = { user, clientAddress: '192.0.2.9' };
    await db.destroy();
    vi.stubEnv('DATABASE_URL', server.url);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
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

  it('adds, changes and removes rules, audited, refusing a bad one with its field and status', async () => {
    const { rule, warning } = await createRule(actor, { name: 'Hot', kind: 'threshold', figure: 'temperature_celsius', value: 80 });
    expect(warning).toBeNull();
    expect(rule.spec).toMatchObject({ kind: 'threshold', value: 80 });
    expect(await refusal(createRule(actor, { name: 'Hot', kind: 'probe' }))).toMatchObject({
      status: 409,
      code: 'conflict',
      field: 'name',
    });
    expect(await refusal(createRule(actor, { name: 'X', kind: 'threshold', figure: 'cpu_usage_percent', value: 'high' }))).toMatchObject({
      status: 422,
      code: 'invalid',
      field: 'value',
    });
    const changed = await changeRule(actor, rule.id, {
      name: 'Hot',
      kind: 'threshold',
      figure: 'temperature_celsius',
      value: 85,
      selector: 'rack=z',
    });
    expect(changed.warning).toContain('matches no host today');
    expect((await showRule(rule.id)).spec).toMatchObject({ value: 85 });
    expect(await refusal(changeRule(actor, 9999, { name: 'Y', kind: 'probe' }))).toMatchObject({ status: 404 });
    expect((await listRuleViews()).map((r) => r.name)).toEqual(['Hot']);
    const gone = await createRule(actor, { name: 'Gone', kind: 'probe' });
    expect((await deleteRule(actor, gone.rule.id)).name).toBe('Gone');
    expect(await refusal(deleteRule(actor, gone.rule.id))).toMatchObject({ status: 404 });
    const audit = await listAudit(await getDb());
    expect(audit.rows.map((r) => r.action).reverse()).toEqual([
      'alert_rule.create',
      'alert_rule.update',
      'alert_rule.create',
      'alert_rule.remove',
    ]);
    expect(audit.rows.every((r) => r.user_name === 'ops' && r.client_address === '192.0.2.9')).toBe(true);
  });

  it('lists alerts with filters, and silences one in one call with matchers that pick it out', async () => {
    const [rule] = await listRuleViews();
    const cond = {
      ruleId: rule!.id,
      subject: 'probe:site',
      severity: 'warning' as const,
      value: null,
      summary: 'probe site is failing',
      forSeconds: 0,
    };
    const at = new Date();
    await applyAlertChanges(await getDb(), [
      {
        target: { id: targetId, name: 'pi-1', labels: { rack: 'a' } },
        ruleName: rule!.name,
        change: { to: 'firing', condition: cond, startedAt: at.getTime() / 1000 },
        at,
      },
    ]);
    const open = await listAlertViews({});
    expect(open).toMatchObject({
      total: 1,
      page: 1,
      per_page: 100,
      items: [{ rule: 'Hot', target: 'pi-1', subject: 'probe:site', state: 'firing' }],
    });
    expect((await listAlertViews({ state: 'resolved' })).total).toBe(0);
    expect((await listAlertViews({ target: String(targetId + 1) })).total).toBe(0);
    expect((await listAlertViews({ rule: String(rule!.id), page: '2', per_page: '1' })).items).toEqual([]);
    const alert = await showAlert(open.items[0]!.id);
    expect(alertMatchers(alert)).toBe('alertname=Hot,host=pi-1,probe=site');
    await expect(showAlert(99_999)).rejects.toBeInstanceOf(ApiError);
    const before = Date.now();
    const silence = await silenceAlert(actor, alert.id, 3600);
    expect(silence).toMatchObject({
      matchers: 'alertname=Hot,host=pi-1,probe=site',
      created_by: 'ops',
      comment: `silenced from alert ${alert.id}`,
    });
    expect(Date.parse(silence.ends_at) - Date.parse(silence.starts_at)).toBe(3_600_000);
    expect(Date.parse(silence.starts_at)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('adds silences and maintenance windows, ends them, and refuses those that cannot work', async () => {
    const window = await createSilence(actor, {
      matchers: 'rack=a',
      starts_at: '2026-01-01T00:00:00Z',
      ends_at: '2099-01-01T00:00:00Z',
      schedule: '0 2 * * 0',
      window_seconds: 3600,
      comment: 'Sunday patching',
    });
    expect(window).toMatchObject({ schedule: '0 2 * * 0', duration_seconds: 3600 });
    expect(await refusal(createSilence(actor, { matchers: '' }))).toMatchObject({ status: 422, field: 'matchers' });
    expect(await refusal(createSilence(actor, { matchers: 'a=b', schedule: 'sometimes', window_seconds: 60 }))).toMatchObject({
      field: 'schedule',
    });
    expect(await refusal(createSilence(actor, { matchers: 'a=b', duration_seconds: -1 }))).toMatchObject({
      status: 422,
      field: 'duration_seconds',
    });
    expect(await refusal(createSilence(actor, { matchers: 'a=b', colour: 'red' }))).toMatchObject({ status: 422 });
    expect((await listSilenceViews()).map((s) => s.id)).toContain(window.id);
    await endSilence(actor, window.id);
    expect((await listSilenceViews()).map((s) => s.id)).not.toContain(window.id);
    expect((await listSilenceViews(true)).map((s) => s.id)).toContain(window.id);
    expect(await refusal(endSilence(actor, window.id))).toMatchObject({ status: 404 });
  });

  it("changes a channel's routing and grouping, audited, refusing a bad value with its field", async () => {
    const { createChannel, changeChannel } = await import('./channels');
    const c = await createChannel(actor, { name: 'pager', kind: 'ntfy', url: 'https://ntfy.sh/SECRET-TOPIC', min_severity: 'critical' });
    expect(c.url).toBe('https://ntfy.sh/***');
    const changed = await changeChannel(actor, c.id, { matchers: 'rack=a', group_wait_seconds: 10, enabled: false });
    expect(changed).toMatchObject({
      matchers: 'rack=a',
      group_wait_seconds: 10,
      enabled: false,
      min_severity: 'critical',
      url: 'https://ntfy.sh/***',
    });
    expect(await refusal(changeChannel(actor, c.id, { group_wait_seconds: -1 }))).toMatchObject({
      status: 422,
      field: 'group_wait_seconds',
    });
    expect(await refusal(changeChannel(actor, c.id, { url: 'https://elsewhere' }))).toMatchObject({ status: 422 });
    expect(await refusal(changeChannel(actor, 99_999, { enabled: true }))).toMatchObject({ status: 404 });
    const [last] = (await listAudit(await getDb())).rows;
    expect(last).toMatchObject({ action: 'channel.update', user_name: 'ops' });
    expect(JSON.stringify(last)).not.toContain('SECRET-TOPIC');
    // The channels page's form: a checkbox for on, numbers as text, empty ones left alone.
    const page = await import('../../routes/admin/channels/+page.server');
    const post = (form: Record<string, string>) =>
      ({
        request: new Request('http://localhost/admin/channels', { method: 'POST', body: new URLSearchParams(form) }),
        locals: { principal: { user: actor.user, via: 'session' } },
        getClientAddress: () => '192.0.2.9',
      }) as never;
    const route = (page.actions as Record<string, (e: unknown) => Promise<unknown>>).route!;
    const form = {
      id: String(c.id),
      enabled: 'on',
      matchers: 'rack=c',
      min_severity: 'warning',
      group_by: 'alertname,rack',
      group_wait_seconds: '5',
      group_interval_seconds: '',
      repeat_interval_seconds: '7200',
    };
    expect(await route(post(form))).toEqual({ action: 'route', routed: 'pager' });
    const { showChannel } = await import('./channels');
    expect(await showChannel(c.id)).toMatchObject({
      enabled: true,
      matchers: 'rack=c',
      min_severity: 'warning',
      group_by: 'alertname,rack',
      group_wait_seconds: 5,
      group_interval_seconds: 300,
      repeat_interval_seconds: 7200,
    });
    const { enabled: _on, ...off } = form;
    await route(post(off));
    expect((await showChannel(c.id)).enabled).toBe(false);
    expect(await route(post({ ...form, repeat_interval_seconds: '5' }))).toMatchObject({
      status: 422,
      data: { field: 'repeat_interval_seconds', action: 'route' },
    });
  });

  it("reads a rule from the page form by its kind, ignoring the other kinds' fields", () => {
    const common = { name: 'R', severity: 'critical', selector: ' rack=a ', for_seconds: '60', description: '' };
    expect(ruleFromForm({ ...common, kind: 'threshold', figure: 'load1', op: '>', value: '4', within_days: '3' })).toEqual({
      name: 'R',
      kind: 'threshold',
      severity: 'critical',
      selector: 'rack=a',
      for_seconds: 60,
      figure: 'load1',
      op: '>',
      value: 4,
    });
    expect(ruleFromForm({ kind: 'disk_full', name: 'D', within_hours: '24', window_seconds: '' })).toEqual({
      name: 'D',
      kind: 'disk_full',
      selector: '',
      within_hours: 24,
    });
    expect(ruleFromForm({ kind: 'container', name: 'C', condition: 'restarting', container: ' web ', window_seconds: '30' })).toMatchObject(
      {
        condition: 'restarting',
        container: 'web',
        window_seconds: 30,
      },
    );
    expect(ruleFromForm({ kind: 'certificate', name: 'T', within_days: '14', probe: '' })).toMatchObject({ within_days: 14, probe: '' });
    expect(ruleFromForm({ kind: 'probe', name: 'P', probe: 'site' })).toMatchObject({ probe: 'site' });
  });

  it('serves the Alerts page: filters, and its actions as operators use them', async () => {
    const page = await import('../../routes/alerts/+page.server');
    const get = (search: string, role = 'operator') =>
      ({ url: new URL(`http://localhost/alerts${search}`), locals: { principal: { user: { ...actor.user, role } } } }) as never;
    const loaded = (await page.load(get(''))) as { alerts: { id: number }[]; canOperate: boolean; filter: unknown; rules: unknown[] };
    expect(loaded).toMatchObject({ filter: { state: 'open', held: null, host: null }, canOperate: true });
    expect(loaded.alerts).toHaveLength(1);
    expect(await page.load(get(`?state=bogus&held=silenced&host=${targetId}&page=-1`, 'viewer'))).toMatchObject({
      filter: { state: 'open', held: 'silenced', host: targetId },
      page: 1,
      canOperate: false,
    });
    const post = (form: Record<string, string>) =>
      ({
        request: new Request('http://localhost/alerts', { method: 'POST', body: new URLSearchParams(form) }),
        locals: { principal: { user: actor.user, via: 'session' } },
        getClientAddress: () => '192.0.2.9',
      }) as never;
    const a = page.actions as Record<string, (e: unknown) => Promise<unknown>>;
    expect(await a.addRule!(post({ name: 'Loaded', kind: 'threshold', figure: 'load1', value: '8', selector: 'rack=q' }))).toMatchObject({
      action: 'addRule',
      added: 'Loaded',
      warning: expect.stringContaining('matches no host today'),
    });
    expect(await a.addRule!(post({ name: 'Broken', kind: 'threshold', figure: 'load1', value: '' }))).toMatchObject({
      status: 422,
      data: { field: 'value', action: 'addRule' },
    });
    const loadedRule = (await listRuleViews()).find((r) => r.name === 'Loaded')!;
    expect(await a.toggleRule!(post({ id: String(loadedRule.id), enabled: 'false' }))).toEqual({ action: 'toggleRule', toggled: 'Loaded' });
    expect((await showRule(loadedRule.id)).spec.enabled).toBe(false);
    expect(await a.removeRule!(post({ id: String(loadedRule.id) }))).toEqual({ action: 'removeRule', removed: 'Loaded' });
    expect(await a.silence!(post({ id: String(loaded.alerts[0]!.id), hours: '1' }))).toMatchObject({
      action: 'silence',
      silenced: expect.stringContaining('alertname=Hot'),
    });
    const added = (await a.addSilence!(
      post({ matchers: 'rack=a', schedule: '0 3 * * *', window_minutes: '30', comment: 'nightly backup' }),
    )) as { silenced: string };
    expect(added.silenced).toBe('rack=a');
    const windowed = (await listSilenceViews()).find((s) => s.schedule === '0 3 * * *')!;
    expect(windowed.duration_seconds).toBe(1800);
    expect(await a.expire!(post({ id: String(windowed.id) }))).toEqual({ action: 'expire', expired: 'rack=a' });
    expect(await a.addSilence!(post({ matchers: '', hours: '1' }))).toMatchObject({ status: 422, data: { field: 'matchers' } });
  });
});
