import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, packageBin } from '@vigil/core/testing';
import {
  addChannel,
  addTarget,
  createDb,
  createUser,
  ensureHeartbeatPartitions,
  insertHeartbeats,
  type NewHeartbeat,
  resolveDatabaseUrl,
  setPaused,
} from '@vigil/db';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { browserMissing, launchBrowser, seriousAxeViolations } from './browser.js';
import { type RunningVigil, startVigil } from './vigil.js';

const missing = browserMissing();
const SHOTS = path.resolve(import.meta.dirname, '../../bench/out');

describe.skipIf(missing)(`console in a browser${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-e2e-'));
  let vigil: RunningVigil;
  let browser: Browser;
  beforeAll(async () => {
    vigil = await startVigil({
      ...process.env,
      DATABASE_URL: `pglite://${dir}/pgdata`,
      VIGIL_EXPORTER_LISTEN: `127.0.0.1:${await freePort()}`,
      VIGIL_SCRAPER_LISTEN: `127.0.0.1:${await freePort()}`,
      VIGIL_CONSOLE_LISTEN: `127.0.0.1:${await freePort()}`,
      VIGIL_LOCAL_INTERVAL: '2s',
      VIGIL_LOG_LEVEL: 'warn',
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await vigil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let seededId = 0;

  it('shows this host up with its figures, then down without a reload when its exporter stops, with the event', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Signed out, the console sends you to sign in; the first start printed the admin's password.
    await page.goto(vigil.consoleUrl);
    await page.waitForURL(/\/login$/);
    expect(vigil.adminPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    await page.getByLabel('Name').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('[data-login-error]').textContent()).toMatch(/Wrong name or password/);
    await page.getByLabel('Password').fill(vigil.adminPassword!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${vigil.consoleUrl}/`);
    expect(await page.locator('[data-user]').textContent()).toMatch(/admin · admin/);
    const row = page.locator(`tr[data-target="${os.hostname()}"]`);
    await row.locator('[data-state="up"]').waitFor({ timeout: 30_000 });
    // Real figures: memory and disk as "x GiB of y GiB", cpu once two scrapes are in.
    await expect
      .poll(async () => row.locator('[data-memory]').textContent(), { timeout: 20_000 })
      .toMatch(/\d+(\.\d+)? %.*\d+(\.\d+)? [KMGT]iB of \d+(\.\d+)? [KMGT]iB/s);
    await expect.poll(async () => row.locator('[data-disk]').textContent(), { timeout: 20_000 }).toMatch(/\d+(\.\d+)? %/);
    await expect.poll(async () => row.locator('[data-cpu]').textContent(), { timeout: 20_000 }).toMatch(/^\s*\d+(\.\d+)? %/);
    await expect.poll(async () => row.locator('[data-age]').textContent(), { timeout: 10_000 }).toMatch(/^\d+ s ago/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'fleet.png'), fullPage: true });
    expect(await seriousAxeViolations(page)).toEqual([]);

    // A webhook channel, received here: the scraper tells it the host went down.
    const received: { event: { to: string }; target: { name: string } }[] = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        // Alert groups (the default rules may fire on this machine) are another test's business.
        const parsed = JSON.parse(body);
        if (parsed.type !== 'alerts') received.push(parsed);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const db = await createDb(resolveDatabaseUrl(`pglite://${dir}/pgdata`), { max: 1 });
    try {
      await addChannel(db, { name: 'hook', kind: 'webhook', url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/vigil` });
      // A host with every figure the host page charts, a heartbeat a minute over the last hour (paused: its URL answers nothing).
      const seeded = await addTarget(db, { name: 'seeded-pi', url: 'http://127.0.0.1:9/metrics' });
      await setPaused(db, seeded.id, true, 'e2e');
      const rows: NewHeartbeat[] = [];
      for (let i = 60; i >= 1; i--)
        rows.push({
          target_id: seeded.id,
          time: new Date(Date.now() - i * 60_000),
          up: true,
          duration_seconds: 0.01,
          error: null,
          cpu_usage_percent: 20 + (i % 10),
          memory_used_bytes: 2 ** 30,
          memory_total_bytes: 2 ** 32,
          load1: 0.5,
          net_receive_bytes_per_second: 150_000,
          net_transmit_bytes_per_second: 20_000,
          net_interfaces: { eth0: [100_000, 15_000], wlan0: [50_000, 5_000] },
          disk_read_bytes_per_second: 4096 * i,
          disk_written_bytes_per_second: 8192,
          disk_reads_per_second: 3,
          disk_writes_per_second: 12,
          temperature_celsius: 55 + (i % 5),
          container_figures: { web: [12.5, 80 * 2 ** 20, 3000, 1000], db: [40, 300 * 2 ** 20, 500, 9000] },
          probe_results: { 'https://pi.home': i % 4 === 0 ? 0 : 1 },
        });
      await ensureHeartbeatPartitions(db, new Date(Date.now() - 3_600_000), 1); // the last hour may begin yesterday (UTC)
      await insertHeartbeats(db, rows);
      seededId = seeded.id;
    } finally {
      await db.destroy();
    }

    // Search, filter and sort happen in the page, and land in its URL.
    await page.locator('[data-live="live"]').waitFor();
    await page.locator('[data-search]').fill('no-such-host');
    await page.locator('[data-none-shown]').waitFor();
    expect(page.url()).toContain('q=no-such-host');
    await page.locator('[data-none-shown] button').click();
    await row.waitFor();
    await page.locator('[data-sort="cpu"]').click();
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toMatch(/CPU/);
    expect(page.url()).toContain('sort=cpu&dir=desc');

    // No reload and no polling: the server pushes the change (Server-Sent Events).
    const polls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('__data.json')) polls.push(r.url());
    });
    process.kill(vigil.pids.exporter!, 'SIGTERM');
    await row.locator('[data-state="down"]').waitFor({ timeout: 30_000 });
    expect(polls).toEqual([]);
    expect(await page.locator('[data-count="down"]').textContent()).toBe('1');
    // Its figures are its last known ones, said to be so.
    await expect.poll(async () => row.locator('[data-as-of]').textContent(), { timeout: 10_000 }).toMatch(/^figures as of \d/);
    // A phone: the page fits the screen's width, nothing pushed off to the side.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'fleet-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });

    await row.locator('a').first().click();
    await page.waitForURL(/\/hosts\/\d+$/);
    const hostUrl = page.url();
    await expect
      .poll(async () => page.locator('table[data-events]').textContent(), { timeout: 10_000 })
      .toMatch(/up → down.*is down: no successful scrape for 3 intervals/s);
    // Charts drawn from the heartbeats of the last hour, then from hourly buckets over 7 days.
    for (const chart of ['CPU', 'Memory', 'Disk /', 'Load 1m']) {
      const figure = page.locator(`figure[data-chart="${chart}"]`);
      expect(Number(await figure.getAttribute('data-points'))).toBeGreaterThan(0);
      await figure.locator('canvas').waitFor();
    }
    // Availability: up, then down a moment ago; one bar per day for 90 days, today's drawn.
    expect(await page.locator('[data-uptime] li[data-day]').count()).toBe(90);
    expect(await page.locator('[data-uptime] li[data-day]').last().getAttribute('class')).toMatch(/good|fair|poor|bad/);
    expect(await page.locator('[data-window="24h"] dd').textContent()).toMatch(/^\d{1,3}\.\d\d %$/);
    await page.screenshot({ path: path.join(SHOTS, 'host.png'), fullPage: true });
    expect(await seriousAxeViolations(page)).toEqual([]);
    // The dark theme, chosen with the switch: at once, kept over a reload (rendered on the server), and as readable.
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const light = await background();
    await page.locator('[data-theme-switch]').selectOption('dark');
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await background()).not.toBe(light);
    await page.reload();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await page.locator('[data-theme-switch]').inputValue()).toBe('dark');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'host-dark.png'), fullPage: true });
    // On a phone: nothing pushed off to the side, once the charts have followed the new width (their ResizeObserver).
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'host-phone-dark.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.locator('[data-theme-switch]').selectOption('system');
    expect(await background()).toBe(light);
    await page.locator('[data-range="7d"]').click();
    await page.locator('section[data-resolution="hourly"]').waitFor();
    expect(Number(await page.locator('figure[data-chart="Memory"]').getAttribute('data-points'))).toBeGreaterThan(0);
    await page.locator('figure[data-chart="Memory"] canvas').waitFor();

    // Every chart of a host with all the figures: network and containers one line per interface or container, each named.
    await page.goto(`${vigil.consoleUrl}/hosts/${seededId}`);
    for (const chart of [
      'CPU',
      'Network received',
      'Network sent',
      'Disk throughput',
      'Disk operations',
      'Temperature',
      'Container CPU (% of a core)',
      'Container memory',
      'Container network received',
      'Container network sent',
    ]) {
      const figure = page.locator(`figure[data-chart="${chart}"]`);
      expect(Number(await figure.getAttribute('data-points')), chart).toBeGreaterThan(0);
      await figure.locator('canvas').waitFor();
    }
    // 100,000 and 50,000 bytes a second.
    expect(await page.locator('figure[data-chart="Network received"] [data-line]').allTextContents()).toEqual([
      'eth0 97.7 KiB/s',
      'wlan0 48.8 KiB/s',
    ]);
    expect(await page.locator('figure[data-chart="Container memory"] [data-line]').allTextContents()).toEqual([
      'db 300 MiB',
      'web 80.0 MiB',
    ]);
    expect(await page.locator('figure[data-chart="Temperature"] figcaption').textContent()).toMatch(/5\d(\.\d)? °C/);
    // Its probe's availability from its results: 45 of 60 succeeded (every fourth failed).
    const probe = page.locator('[data-probe-uptime] tr[data-probe="https://pi.home"]');
    expect(await probe.locator('[data-window="24h"]').textContent()).toBe('75.00 %');
    expect(await probe.locator('li[data-day]').count()).toBe(90);
    expect(await probe.locator('li[data-day]').last().getAttribute('class')).toMatch(/bad/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'host-charts.png'), fullPage: true });
    // The fleet table: a cpu and a memory trend per host, from the same page load (no request per row).
    const trendRequests: string[] = [];
    page.on('request', (r) => trendRequests.push(r.url()));
    await page.goto(vigil.consoleUrl);
    const seededRow = page.locator('tr[data-target="seeded-pi"]');
    expect(await seededRow.locator('svg[data-sparkline="CPU"]').getAttribute('aria-label')).toMatch(/^CPU over the last hour: 2\d–2\d %$/);
    expect(await seededRow.locator('svg[data-sparkline="Memory"]').getAttribute('aria-label')).toBe('Memory over the last hour: 25–25 %');
    expect(await row.locator('svg[data-sparkline="CPU"]').count()).toBe(1);
    expect(trendRequests.filter((u) => u.includes('/api/')).length).toBeLessThanOrEqual(1); // the fleet stream only

    await expect.poll(() => received.map((b) => `${b.target.name} ${b.event.to}`), { timeout: 15_000 }).toEqual([`${os.hostname()} down`]);
    hook.close();
    await page.goto(`${vigil.consoleUrl}/events`);
    // Filtered by kind: only pauses (the seeded host's, none of this host), then any kind again.
    await page.locator('[data-filter-type]').selectOption('paused');
    await page.waitForURL(/type=paused/);
    await expect.poll(() => page.locator('table tbody tr').allTextContents()).toEqual([expect.stringMatching(/seeded-pi.*paused by e2e/s)]);
    await page.locator('[data-filter-type]').selectOption('');
    await page.waitForURL((u) => !u.search.includes('type='));
    const upRow = page.locator('table tbody tr', { hasText: 'unknown → up' });
    expect((await upRow.locator('td').nth(1).textContent())?.trim()).toBe(os.hostname());
    expect(await page.locator('table tbody tr').first().textContent()).toMatch(/up → down.*hook ✓/s);
    await page.screenshot({ path: path.join(SHOTS, 'events.png'), fullPage: true });
    const missingHost = await page.goto(`${vigil.consoleUrl}/hosts/424242`);
    expect(missingHost?.status()).toBe(404);
    expect(await page.locator('main').textContent()).toMatch(/No host with id 424242/);
    // An admin may pause the host (no scrapes, no alerts) and resume it, which starts it afresh.
    await page.goto(hostUrl);
    await page.locator('[data-pause]').click();
    await page.locator('h1 [data-state="paused"]').waitFor();
    expect(await page.locator('[data-pause]').textContent()).toBe('Resume');
    await page.locator('[data-pause]').click();
    await page.locator('h1 [data-state="unknown"]').waitFor();
    await expect
      .poll(async () => page.locator('table[data-events]').textContent(), { timeout: 10_000 })
      .toMatch(/resumed by admin.*paused by admin/s);
    // An admin adds a target after a test scrape, and watches it come up on the fleet page.
    const second = http.createServer((_, res) =>
      res.end('node_load1 0.5\nnode_memory_MemTotal_bytes 1e9\nnode_memory_MemAvailable_bytes 4e8\n'),
    );
    await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
    const secondUrl = `http://127.0.0.1:${(second.address() as AddressInfo).port}/metrics`;
    await page.goto(`${vigil.consoleUrl}/admin/targets`);
    await page.getByLabel('Name').first().fill('second');
    await page.getByLabel('Metrics URL').fill(secondUrl);
    await page.getByLabel('Interval (s)').first().fill('2');
    await page.getByLabel('Timeout (s)').first().fill('1');
    await page.getByLabel('Labels').first().fill('rack=b');
    await page.locator('[data-test-scrape]').click();
    await expect.poll(() => page.locator('[data-scrape-result]').getAttribute('data-scrape-result')).toBe('up');
    expect((await page.locator('[data-scrape-result]').textContent())?.replace(/\s+/g, ' ')).toMatch(
      /Up in \d+ ms · 3 samples · memory 60\.0 %/,
    );
    await page.screenshot({ path: path.join(SHOTS, 'admin-targets.png'), fullPage: true });
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.locator('[data-add]').click();
    await page.locator('[data-added]').waitFor();
    await page.locator('tr[data-target="second"]').waitFor();
    await page.goto(vigil.consoleUrl);
    await page.locator('tr[data-target="second"] [data-state="up"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-filter-label]').selectOption('rack=b');
    expect(await page.locator('tbody tr[data-target]').count()).toBe(1);
    for (const shot of ['users', 'channels', 'audit'])
      await page
        .goto(`${vigil.consoleUrl}/admin/${shot}`)
        .then(() => page.screenshot({ path: path.join(SHOTS, `admin-${shot}.png`), fullPage: true }));
    expect(await page.locator('table[data-audit]').textContent()).toMatch(/target\.create.*second/s);
    second.close();

    // A status page, made by the admin, read signed out below.
    await page.goto(`${vigil.consoleUrl}/admin/status-pages`);
    await page.getByLabel('Slug').fill('lab');
    await page.getByLabel('Title').fill('The lab');
    await page.locator('textarea[name="groups"]').fill('Everything\nRack B: rack=b');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.locator('tr[data-status-page="lab"]').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);

    // Who watches the watcher: the scraper replicas, then none: every page says so, the open fleet page without a reload.
    await page.goto(`${vigil.consoleUrl}/admin/scrapers`);
    expect(await page.locator('[data-live-scrapers]').textContent()).toBe('1 live.');
    expect(await page.locator('tr[data-scraper]').count()).toBe(1);
    expect(await page.locator('[data-unwatched]').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'admin-scrapers.png'), fullPage: true });
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.goto(vigil.consoleUrl);
    await page.locator('[data-live="live"]').waitFor();
    process.kill(vigil.pids.scraper!, 'SIGTERM');
    await page.locator('[data-unwatched]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-unwatched]').textContent()).toMatch(/No scraper is running/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.goto(`${vigil.consoleUrl}/events`);
    await page.locator('[data-unwatched]').waitFor();
    await page.goto(`${vigil.consoleUrl}/admin/scrapers`);
    expect(await page.locator('[data-live-scrapers]').textContent()).toMatch(/No scraper is live/);

    // Signed out, every page refuses you again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(`${vigil.consoleUrl}/events`);
    await page.waitForURL(/\/login\?next=%2Fevents$/);
    // The status page needs no session, shows states and availability, and nothing internal.
    const status = await page.goto(`${vigil.consoleUrl}/status/lab`);
    expect(status?.status()).toBe(200);
    expect(status?.headers()['cache-control']).toMatch(/^public, max-age=\d+$/);
    await page.locator(`[data-host="${os.hostname()}"]`).first().waitFor();
    expect(await page.locator('[data-host="second"]').count()).toBe(2); // in both groups
    const html = await page.content();
    for (const internal of ['127.0.0.1', '/metrics', 'refused', 'exporter', 'token']) expect(html).not.toContain(internal);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'status-page.png'), fullPage: true });
    expect((await page.goto(`${vigil.consoleUrl}/status/nope`))?.status()).toBe(404);
    expect(errors).toEqual([]);
  }, 120_000);

  /** The code an authenticator app shows for `secret` at `ms` (the otpauth library, as such apps compute it). */
  const codeAt = (secret: string, ms: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });
  async function passwordSignIn(page: Page, name: string, password: string) {
    await page.goto(`${vigil.consoleUrl}/login`);
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  /** Sets up two factors on /account/two-factor: the secret as the QR code's text gives it, a wrong code, the right one; the recovery codes shown. */
  async function setUpTwoFactor(page: Page): Promise<{ secret: string; recovery: string[] }> {
    await page.getByRole('button', { name: 'Set up' }).click();
    const secret = (await page.locator('[data-secret]').textContent())!;
    expect(await page.locator('[data-setup] svg').count()).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByLabel('Code the app shows now').fill(codeAt(secret, Date.now() + 600_000)); // ten minutes off
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect.poll(() => page.locator('[data-two-factor-error]').textContent()).toMatch(/Wrong code/);
    await page.getByLabel('Code the app shows now').fill(codeAt(secret, Date.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('[data-recovery-codes]').waitFor();
    const recovery = await page.locator('[data-recovery-codes] code').allTextContents();
    expect(recovery).toHaveLength(10);
    return { secret, recovery };
  }

  it('signs in with two factors: set up by the QR code, a wrong code refused, recovery codes once, and a role that must use them', async () => {
    const page = await browser.newPage();
    await passwordSignIn(page, 'admin', vigil.adminPassword!);
    await page.waitForURL(`${vigil.consoleUrl}/`);
    await page.goto(`${vigil.consoleUrl}/account`);
    expect(await page.locator('[data-two-factor-state]').textContent()).toMatch(/^Off\./);
    await page.getByRole('link', { name: 'Set up' }).click();
    const { secret, recovery } = await setUpTwoFactor(page);
    await page.screenshot({ path: path.join(SHOTS, 'two-factor-codes.png'), fullPage: true });
    expect(await (await page.request.get(`${vigil.consoleUrl}/api/v1/me`)).json()).toMatchObject({ name: 'admin', two_factor: true });

    // Signed out and in again: the password alone reaches only the code page; pages and the API say so.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await passwordSignIn(page, 'admin', vigil.adminPassword!);
    await page.waitForURL(/\/login\/two-factor$/);
    await page.goto(`${vigil.consoleUrl}/events`);
    await page.waitForURL(/\/login\/two-factor\?next=%2Fevents$/);
    const half = await page.request.get(`${vigil.consoleUrl}/api/v1/me`);
    expect(half.status()).toBe(401);
    expect((await half.json()).error.code).toBe('second_factor_required');
    await page.getByLabel('Code').fill(codeAt(secret, Date.now() - 600_000));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.locator('[data-two-factor-error]').textContent()).toBe('Wrong code.');
    expect(await seriousAxeViolations(page)).toEqual([]);
    // The next step's code: later than the one that turned it on, so never a replay of it.
    await page.getByLabel('Code').fill(codeAt(secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${vigil.consoleUrl}/events`);

    // A recovery code signs in once.
    let signedIn = true;
    for (const [code, works] of [
      [recovery[0]!, true],
      [recovery[0]!, false],
      [recovery[1]!.toUpperCase(), true],
    ] as const) {
      // Half signed in, the code page's own way out.
      await page.getByRole('button', { name: signedIn ? 'Sign out' : 'Sign in as someone else' }).click();
      await page.waitForURL(/\/login$/);
      signedIn = works;
      await passwordSignIn(page, 'admin', vigil.adminPassword!);
      await page.getByLabel('Code').fill(code);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      if (works) await page.waitForURL(`${vigil.consoleUrl}/`);
      else await expect.poll(() => page.locator('[data-two-factor-error]').textContent()).toBe('Wrong code.');
    }

    // The admin requires two factors of viewers, and adds one: at her first sign-in she must set them up before anything else.
    await page.goto(`${vigil.consoleUrl}/admin/users`);
    await page.locator('[data-required-roles] input[value="viewer"]').check();
    await page.locator('[data-required-roles] button').click();
    await expect.poll(() => page.locator('[data-done]').textContent()).toBe('Two-factor sign-in required for: viewer.');
    await page.locator('[data-add-user] input[name="name"]').fill('val');
    await page.locator('[data-add-user] select[name="role"]').selectOption('viewer');
    await page.locator('[data-add-user] input[name="password"]').fill('val-password-12');
    await page.locator('[data-add-user] input[name="confirm"]').fill('val-password-12');
    await page.locator('[data-add-user] button').click();
    await page.locator('tr[data-user-row="val"]').waitFor();
    expect(await page.locator('tr[data-user-row="admin"] [data-two-factor]').textContent()).toMatch(/on/);
    const val = await browser.newPage();
    await passwordSignIn(val, 'val', 'val-password-12');
    await val.waitForURL(/\/account\/two-factor$/);
    await val.locator('[data-must-enrol]').waitFor();
    await val.goto(vigil.consoleUrl);
    await val.waitForURL(/\/account\/two-factor$/);
    const refused = await val.request.get(`${vigil.consoleUrl}/api/v1/fleet`);
    expect(refused.status()).toBe(403);
    expect((await refused.json()).error.code).toBe('two_factor_setup_required');
    expect(await seriousAxeViolations(val)).toEqual([]);
    await setUpTwoFactor(val);
    await val.goto(vigil.consoleUrl);
    await val.locator('[data-live]').waitFor();
    // The admin resets it (a lost phone): off again, so at her next request she sets it up anew.
    await page.reload();
    page.once('dialog', (d) => void d.accept());
    await page.locator('tr[data-user-row="val"] [data-two-factor]').getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => page.locator('tr[data-user-row="val"] [data-two-factor]').textContent()).toMatch(/off/);
    await val.goto(vigil.consoleUrl);
    await val.waitForURL(/\/account\/two-factor$/);
    await page.goto(`${vigil.consoleUrl}/admin/audit`);
    expect(await page.locator('table[data-audit]').textContent()).toMatch(
      /user\.reset_two_factor.*user\.two_factor_on.*settings\.two_factor_roles.*user\.recovery_code_used/s,
    );
    await val.close();
    await page.close();
  });

  it('fires a rule made on the Alerts page, silences it in a click, ends the silence, and resolves it when the rule is turned off', async () => {
    // A host whose probe fails, served here; scraped every 2 s by the running scraper.
    const exporter = http.createServer((_, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end('node_load1 0.5\nprobe_success{service="shop"} 0\nprobe_duration_seconds{service="shop"} 0.2\n');
    });
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
    const db = await createDb(resolveDatabaseUrl(`pglite://${dir}/pgdata`), { max: 1 });
    let hostId = 0;
    try {
      await createUser(db, { name: 'opal', role: 'operator', password: 'opal-password-1' });
      hostId = (
        await addTarget(db, {
          name: 'shop-1',
          url: `http://127.0.0.1:${(exporter.address() as AddressInfo).port}/metrics`,
          interval_seconds: 2,
          timeout_seconds: 1,
          labels: { rack: 'e2e' },
        })
      ).id;
    } finally {
      await db.destroy();
    }
    // The first test stopped `vigil start`'s scraper (to see the console say so): this one runs its own, the program as hosts run it.
    const scraper = spawn(packageBin('@vigil/scraper', 'vigil-scraper', import.meta.url), [], {
      env: {
        ...process.env,
        DATABASE_URL: resolveDatabaseUrl(`pglite://${dir}/pgdata`),
        VIGIL_SCRAPER_LISTEN: `127.0.0.1:${await freePort()}`,
        VIGIL_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const scraperExited = new Promise((r) => scraper.once('exit', r));
    onTestFinished(async () => {
      if (scraper.exitCode === null && scraper.signalCode === null) scraper.kill('SIGTERM');
      await scraperExited;
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await passwordSignIn(page, 'opal', 'opal-password-1');
    await page.waitForURL(`${vigil.consoleUrl}/`);
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.waitForURL(/\/alerts$/);
    // The rule, made with the page's form: any failing probe on rack=e2e, at once.
    await page.locator('details', { hasText: 'Add a rule' }).locator('summary').click();
    const form = page.locator('[data-add-rule]');
    await form.getByLabel('Name').fill('ShopDown');
    await form.getByLabel('Kind').selectOption('probe');
    await form.getByLabel('Severity').selectOption('critical');
    await form.getByLabel('Hosts (label matchers; empty: all)').fill('rack=e2e');
    await form.getByRole('button', { name: 'Add' }).click();
    await expect.poll(() => page.locator('[role="status"]').first().textContent()).toMatch(/Added the rule ShopDown/);
    expect(await page.locator('tr[data-rule="ShopDown"]').textContent()).toMatch(/critical.*probe \(any\) failing.*rack=e2e/s);
    // Fired by the scraper from the host's scrapes.
    // (The default rules, made at the first start, have their own ProbeFailing alert on this host.)
    const row = page.locator('tr[data-state]', { hasText: 'ShopDown' });
    /** The alert's state as the page shows it after a reload, or what the API says when the page has no row. */
    const shown = async () => {
      await page.reload();
      if (await row.count()) return row.getAttribute('data-state');
      const api = await page.request.get(`${vigil.consoleUrl}/api/v1/alerts?state=all`);
      const target = await page.request.get(`${vigil.consoleUrl}/api/v1/targets/${hostId}`);
      return `no row; alerts: ${await api.text()}; target: ${(await target.text()).slice(0, 300)}`;
    };
    await expect.poll(shown, { timeout: 20_000 }).toBe('firing');
    expect(await row.textContent()).toMatch(/ShopDown.*probe shop is failing/s);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'alerts.png'), fullPage: true });
    // One click: silenced (by the scraper's next notification pass), and the silence listed with who made it.
    await row.getByRole('button', { name: 'Silence 2 h' }).click();
    await expect.poll(() => page.locator('[data-silences]').textContent()).toMatch(/alertname=ShopDown,host=shop-1,probe=shop.*opal/s);
    await expect.poll(shown, { timeout: 20_000 }).toBe('silenced');
    await page.locator('[data-filter-held]').selectOption('silenced');
    await page.waitForURL(/held=silenced/);
    expect(await page.locator('tr[data-state]').count()).toBe(1);
    await page.goto(`${vigil.consoleUrl}/alerts`);
    await page.locator('[data-silences] [data-expire]').first().click();
    await expect.poll(shown, { timeout: 20_000 }).toBe('firing');
    // The rule turned off: the alert resolves at the host's next heartbeat, and stays as history.
    await page.locator('[data-toggle-rule="ShopDown"]').click();
    await expect.poll(() => page.locator('tr[data-rule="ShopDown"]').textContent()).toMatch(/\(off\)/);
    await expect
      .poll(
        async () => {
          await page.reload();
          return row.count();
        },
        { timeout: 20_000 },
      )
      .toBe(0);
    await page.goto(`${vigil.consoleUrl}/hosts/${hostId}`);
    expect(await page.locator('[data-host-alerts] tr[data-state="resolved"]', { hasText: 'ShopDown' }).textContent()).toMatch(
      /ShopDown.*probe shop is failing.*resolved/s,
    );
    expect(errors).toEqual([]);
    await page.close();
    exporter.close();
  }, 120_000);

  it('makes an enrolment token shown once with the command for a new host, and approves a host waiting for approval', async () => {
    const db = await createDb(resolveDatabaseUrl(`pglite://${dir}/pgdata`), { max: 1 });
    let pendingId = 0;
    try {
      await createUser(db, { name: 'enid', role: 'admin', password: 'enid-password-1' });
      // A host enrolled with a token requiring approval, as the enrolment leaves it.
      const t = await addTarget(db, { name: 'new-pi', url: 'http://127.0.0.1:9/metrics', labels: { rack: 'e2e' } });
      await db
        .updateTable('targets')
        .set({
          pending_approval: true,
          paused: true,
          source: 'enrolment',
          metadata: JSON.stringify({ hostname: 'new-pi', os: 'Debian GNU/Linux 12 (bookworm)', provider: 'home', region: 'attic' }),
        })
        .where('id', '=', t.id)
        .execute();
      pendingId = t.id;
    } finally {
      await db.destroy();
    }
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await passwordSignIn(page, 'enid', 'enid-password-1');
    await page.waitForURL(`${vigil.consoleUrl}/`);
    await page.goto(`${vigil.consoleUrl}/admin/enrolment`);
    const form = page.locator('[data-add-enrolment-token]');
    await form.getByLabel('Name').fill('rack-e2e');
    await form.getByLabel('Hosts it may enrol (empty: no limit)').fill('3');
    await form.getByLabel('Expires in hours (empty: never)').fill('24');
    await form.getByLabel('Labels for its hosts').fill('rack=e2e');
    await form.getByLabel("Its hosts wait for an admin's approval").check();
    await form.getByRole('button', { name: 'Make token' }).click();
    const command = (await page.locator('[data-enrol-command]').textContent({ timeout: 10_000 }))!;
    expect(command).toMatch(/^VIGIL_CONSOLE_URL=http\S+ VIGIL_ENROL_TOKEN=vge_\S+ vigil-exporter$/);
    const token = /VIGIL_ENROL_TOKEN=(vge_\S+)/.exec(command)?.[1];
    expect(token).toMatch(/^vge_/);
    expect(await page.locator('tr[data-enrolment-token="rack-e2e"]').textContent()).toMatch(
      /0 of 3 \(3 left\).*rack=e2e.*required.*enid.*usable/s,
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'enrolment.png'), fullPage: true });
    // Shown once: not on the page again.
    await page.reload();
    expect(await page.content()).not.toContain(token!);
    // The host waiting for approval: listed apart, approved in a click, then scraped (no longer paused).
    await page.goto(`${vigil.consoleUrl}/admin/targets`);
    const pending = page.locator('[data-pending="new-pi"]');
    expect(await pending.textContent()).toMatch(/new-pi.*Debian GNU\/Linux 12.*home.*attic/s);
    await pending.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => page.locator('[role="status"]', { hasText: 'Approved' }).textContent())
      .toMatch(/Approved new-pi: it is scraped from now on/);
    expect(await page.locator('[data-pending-hosts]').count()).toBe(0);
    // Its page: what it said of itself.
    await page.goto(`${vigil.consoleUrl}/hosts/${pendingId}`);
    expect(await page.locator('[data-host-facts]').textContent()).toMatch(/Provider\s*home.*Region\s*attic.*OS\s*Debian GNU\/Linux 12/s);
    // The fleet groups by what hosts said and by labels.
    await page.goto(`${vigil.consoleUrl}/?group=provider`);
    await page.locator('tr[data-group="home"]').waitFor();
    expect(await page.locator('tr[data-group="home"]').textContent()).toMatch(/provider=home \(1\)/);
    expect(errors).toEqual([]);
  }, 120_000);

  it('the accessibility check finds what it should (so its silence on our pages means something)', async () => {
    const page = await browser.newPage();
    await page.setContent('<html lang="en"><title>t</title><main><img src="data:,"><button></button></main></html>');
    expect((await seriousAxeViolations(page)).map((v) => v.id).sort()).toEqual(['button-name', 'image-alt']);
    await page.close();
  });
});
