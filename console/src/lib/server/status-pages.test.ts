import { addStatusPage, addTarget, applyTransitions, insertHeartbeats, removeStatusPage, upsertInventories } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { allowStatusRead, dayRuns, parseGroups, publicProbeName, publicStatusPage, STATUS_PAGE_READS_PER_MINUTE } from './status-pages';

describe('parseGroups', () => {
  it('reads "Name: key=value, …" lines, and a name alone as every host', () => {
    expect(parseGroups('Web: role=web, rack=a\n\n  Everything  \n')).toEqual([
      { name: 'Web', selector: { role: 'web', rack: 'a' } },
      { name: 'Everything', selector: {} },
    ]);
  });

  it('refuses what it cannot read, naming the line', () => {
    const refusal = (text: string) => {
      try {
        parseGroups(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).field).toBe('groups');
        return (err as ApiError).message;
      }
      throw new Error('accepted');
    };
    expect(refusal('Web: role')).toMatch(/line 1: "role" must be key=value/);
    expect(refusal('ok\n: role=web')).toMatch(/line 2 needs a name/);
    expect(refusal('Web: __meta=x')).toMatch(/line 1: .*__/);
    expect(refusal('  \n ')).toMatch(/at least one line/);
    expect(refusal(Array.from({ length: 21 }, (_, i) => `g${i}`).join('\n'))).toMatch(/at most 20/);
  });
});

describe('publicProbeName', () => {
  it.each([
    ['web', 'web'],
    ['mail relay', 'mail relay'],
    ['api_health-2', 'api_health-2'],
    ['https://10.0.0.5:8443/health', null],
    ['10.0.0.5', null],
    ['nas.home', null],
    ['db:5432', null],
    ['ops@example', null],
    ['', null],
    ['x'.repeat(41), null],
  ])('shows %j as %j', (name, shown) => expect(publicProbeName(name)).toBe(shown));
});

describe('dayRuns', () => {
  it('merges consecutive days of one class, oldest first', () => {
    const days = [null, null, 1, 1, 0.5, 1].map((availability, i) => ({ day: `2026-11-0${i + 1}`, availability }));
    expect(dayRuns(days)).toEqual([
      { class: 'none', from: '2026-11-01', to: '2026-11-02', days: 2 },
      { class: 'good', from: '2026-11-03', to: '2026-11-04', days: 2 },
      { class: 'bad', from: '2026-11-05', to: '2026-11-05', days: 1 },
      { class: 'good', from: '2026-11-06', to: '2026-11-06', days: 1 },
    ]);
    expect(dayRuns([])).toEqual([]);
  });
});

describe('allowStatusRead', () => {
  it('allows a client address so many reads a minute, then refuses until the next minute', () => {
    const t = 1_000_000 * 60_000;
    for (let i = 0; i < STATUS_PAGE_READS_PER_MINUTE; i++) expect(allowStatusRead('192.0.2.7', t)).toBe(true);
    expect(allowStatusRead('192.0.2.7', t + 1000)).toBe(false);
    expect(allowStatusRead('192.0.2.8', t + 1000)).toBe(true);
    expect(allowStatusRead('192.0.2.7', t + 60_000)).toBe(true);
  });
});

describe.each(testDatabases())('a public status page on $name', (engine) => {
  it('shows the hosts its groups select, with state and availability, nothing internal, and is reused for 30 s', async () => {
    const { db, drop } = await engine.open();
    try {
      const web = await addTarget(db, {
        name: 'web-1',
        url: 'http://user:secret@10.9.8.7:9110/metrics',
        labels: { role: 'web' },
        token: 'a-target-token-123456',
      });
      await addTarget(db, { name: 'db-1', url: 'http://10.9.8.8:9110/metrics', labels: { role: 'db' } });
      await applyTransitions(db, [
        { targetId: web.id, from: 'unknown', to: 'down', at: new Date(), message: 'web-1 is down: connection refused at 10.9.8.7' },
      ]);
      // Its probes: one with a plain name (shown), one named by its URL (left out); the plain one failing now.
      const probes = (web: 0 | 1) => ({ web, 'https://10.9.8.7:8443/health': 1 as const });
      await insertHeartbeats(db, [
        { target_id: web.id, time: new Date(Date.now() - 120_000), up: true, duration_seconds: 0.1, error: null, probe_results: probes(1) },
        { target_id: web.id, time: new Date(Date.now() - 60_000), up: true, duration_seconds: 0.1, error: null, probe_results: probes(0) },
        { target_id: web.id, time: new Date(), up: false, duration_seconds: 0.1, error: 'connection refused at 10.9.8.7' },
      ]);
      const service = (name: string, success: boolean) => ({
        name,
        success,
        durationSeconds: 0.1,
        statusCode: success ? 200 : 503,
        certExpiry: null,
      });
      await upsertInventories(db, [
        {
          targetId: web.id,
          containers: [],
          services: [service('web', false), service('https://10.9.8.7:8443/health', true)],
          scrapedAt: new Date(),
          changedAt: new Date(),
          fingerprint: 'x',
        },
      ]);
      const page = await addStatusPage(db, {
        slug: 'lab',
        title: 'The lab',
        groups: [
          { name: 'Web', selector: { role: 'web' } },
          { name: 'All', selector: {} },
        ],
        note: 'Disk swap tonight',
      });
      const now = Date.now();
      const view = (await publicStatusPage(db, 'lab', now))!;
      expect(view.title).toBe('The lab');
      expect(view.note).toBe('Disk swap tonight');
      expect(view.groups.map((g) => [g.name, g.hosts.map((h) => `${h.name} ${h.state}`)])).toEqual([
        ['Web', ['web-1 down']],
        ['All', ['db-1 unknown', 'web-1 down']],
      ]);
      const runs = view.groups[0]!.hosts[0]!.runs;
      expect(runs.reduce((n, r) => n + r.days, 0)).toBe(90);
      expect(runs.at(-1)!.class).toBe('bad'); // down today
      expect(runs.length).toBeLessThanOrEqual(3);
      const text = JSON.stringify(view);
      for (const internal of ['10.9.8.7', 'secret', 'connection refused', 'a-target-token', 'metrics'])
        expect(text).not.toContain(internal);
      for (const g of view.groups)
        for (const h of g.hosts) expect(Object.keys(h).sort()).toEqual(['availability', 'name', 'probes', 'runs', 'state']);
      expect(view.groups[0]!.hosts[0]!.probes).toEqual([{ name: 'web', failing: true, availability: 0.5 }]);
      expect(text).not.toContain('8443');
      // Reused: removed a moment ago, it still answers until its 30 s are up.
      await removeStatusPage(db, page.id);
      expect((await publicStatusPage(db, 'lab', now + 10_000))?.title).toBe('The lab');
      expect(await publicStatusPage(db, 'lab', now + 31_000)).toBeNull();
      expect(await publicStatusPage(db, 'nope', now)).toBeNull();
    } finally {
      await drop();
    }
  });
});
