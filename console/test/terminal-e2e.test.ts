import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@vigil/core/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launchBrowser, seriousAxeViolations } from './browser.js';
import { type RunningVigil, startVigil } from './vigil.js';

const missing = browserMissing();
const SHOTS = path.resolve(import.meta.dirname, '../../bench/out');

/** The terminal's screen as text (xterm.js's buffer, what is drawn), one line per row. */
function screen(page: Page): Promise<string> {
  return page.evaluate(() => {
    const term = (
      window as unknown as {
        vigilTerminal: {
          buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } };
        };
      }
    ).vigilTerminal;
    const b = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  });
}

describe.skipIf(missing)(`a terminal in the browser${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-term-'));
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
      // CI runs as root: allowed here on purpose (a user's `npm start` as root keeps terminals off).
      VIGIL_PTY_ALLOW_ROOT: '1',
      VIGIL_PTY_SHELL: '/bin/bash',
      VIGIL_TERMINAL_RECORD_DIR: path.join(dir, 'casts'),
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await vigil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in, opens a shell, echoes, resizes, re-attaches to the same shell after the connection drops, and an admin replays it', async () => {
    expect(vigil.output.join('\n')).toMatch(/terminals: on/);
    expect(existsSync(path.join(dir, 'console-key.pem'))).toBe(true);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${vigil.consoleUrl}/login`);
    await page.getByLabel('Name').fill('admin');
    await page.getByLabel('Password').fill(vigil.adminPassword!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${vigil.consoleUrl}/`);
    await page.locator('tbody tr a').first().click();
    await page.waitForURL(/\/hosts\/\d+$/);
    await page.locator('[data-open-terminal]').click();
    await page.waitForURL(/\/hosts\/\d+\/terminal$/);
    await page.locator('[data-terminal-state="connected"]').waitFor({ timeout: 20_000 });
    // Headless Chromium's WebGL is software (SwiftShader): the page keeps the DOM renderer, several times faster there.
    expect(await page.locator('[data-terminal]').getAttribute('data-renderer')).toBe('dom');

    const nonce = `hello-${Date.now() % 100000}`;
    await page.locator('[data-terminal]').click();
    await page.keyboard.type(`echo ${nonce}-$((6*7)) pid=$$=\n`);
    await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(new RegExp(`${nonce}-42 pid=\\d+=`));
    const pid = new RegExp(`${nonce}-42 pid=(\\d+)=`).exec(await screen(page))![1];

    // The terminal follows the window: the shell sees the new size.
    const size = async () => {
      const mark = `size-${Math.random().toString(36).slice(2, 8)}`;
      await page.keyboard.type(`echo ${mark}=$(stty size | tr ' ' x)=\n`);
      await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(new RegExp(`${mark}=\\d+x\\d+=`));
      return new RegExp(`${mark}=(\\d+)x(\\d+)=`)
        .exec(await screen(page))!
        .slice(1)
        .map(Number);
    };
    const [rows1, cols1] = await size();
    const xterm = await page.evaluate(() => {
      const t = (window as unknown as { vigilTerminal: { cols: number; rows: number } }).vigilTerminal;
      return [t.rows, t.cols];
    });
    expect([rows1, cols1]).toEqual(xterm);
    await page.setViewportSize({ width: 800, height: 600 });
    await expect.poll(async () => (await size())[1], { timeout: 10_000 }).toBeLessThan(cols1!);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'terminal.png') });
    expect(await seriousAxeViolations(page)).toEqual([]);
    // On a phone: the shell is told the narrower size, and the page fits the screen's width.
    const cols800 = (await size())[1]!;
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(async () => (await size())[1], { timeout: 10_000 }).toBeLessThan(cols800);
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'terminal-phone.png') });
    await page.setViewportSize({ width: 800, height: 600 });

    // The connection drops (not a close by the user): the page re-attaches to the same shell.
    await page.evaluate(() => (window as unknown as { vigilTerminalSocket: () => WebSocket }).vigilTerminalSocket().close(3001, 'network'));
    await page.locator('[data-terminal-state="reconnecting"], [data-terminal-state="connected"]').first().waitFor();
    await page.locator('[data-terminal-state="connected"]').waitFor({ timeout: 20_000 });
    await page.keyboard.type('echo again pid=$$=\n');
    await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(/again pid=\d+=/);
    expect(/again pid=(\d+)=/.exec(await screen(page))![1]).toBe(pid);

    // A reload re-attaches too (the session id is kept for this tab), and replays what it kept.
    await page.reload();
    await page.locator('[data-terminal-state="connected"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => screen(page), { timeout: 10_000 }).toContain(`${nonce}-42`);
    await page.locator('[data-terminal]').click();
    await page.keyboard.type('exit 5\n');
    await expect.poll(() => page.locator('[data-terminal-message]').textContent(), { timeout: 10_000 }).toMatch(/exited with code 5/);
    expect(await page.locator('[data-terminal-state]').getAttribute('data-terminal-state')).toBe('ended');

    // An admin replays the recording: play, pause, seek.
    await page.goto(`${vigil.consoleUrl}/admin/terminals`);
    const first = page.locator('table[data-terminal-sessions] tbody tr').first();
    expect(await first.textContent()).toMatch(/admin.*shell.*exited with code 5/s);
    await first.getByRole('link', { name: 'replay' }).click();
    await page.waitForURL(/\/admin\/terminals\/\d+$/);
    const replayed = () =>
      page.evaluate(() => {
        const t = (
          window as unknown as {
            vigilReplay?: {
              buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } };
            };
          }
        ).vigilReplay;
        if (!t) return '';
        const lines: string[] = [];
        for (let i = 0; i < t.buffer.active.length; i++) lines.push(t.buffer.active.getLine(i)?.translateToString(true) ?? '');
        return lines.join('\n');
      });
    await page.locator('[data-replay-toggle]:not([disabled])').click();
    await expect.poll(replayed, { timeout: 20_000 }).toContain(`${nonce}-42`);
    await page.locator('[data-replay-toggle]').click(); // pause
    const max = Number(await page.locator('[data-replay-seek]').getAttribute('max'));
    expect(max).toBeGreaterThan(0);
    await page.locator('[data-replay-seek]').fill(String(max));
    await expect.poll(replayed, { timeout: 10_000 }).toMatch(/again pid=\d+=/);
    await page.locator('[data-replay-seek]').fill('0');
    await expect.poll(replayed, { timeout: 10_000 }).not.toContain(`${nonce}-42`);
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
