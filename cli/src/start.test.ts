import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@vigil/core/config';
import { closedPort, until } from '@vigil/core/testing';
import { checkVariableDocs } from '@vigil/core/variables';
import { createDb, listEvents, listTargets, recentHeartbeats } from '@vigil/db';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP } from './commands.js';
import { type LocalVigil, START_SCHEMA, START_VARIABLE_DOCS, startLocal } from './start.js';

describe('vigil start', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-start-'));
  let vigil: LocalVigil | undefined;
  const output: string[] = [];
  afterAll(async () => {
    await vigil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs exporter, scraper and console on this machine: the host turns up with its real figures, and down when its exporter stops', async () => {
    const [exporterPort, scraperPort, consolePort] = [await closedPort(), await closedPort(), await closedPort()];
    vigil = await startLocal(
      {
        ...process.env,
        DATABASE_URL: `pglite://${dir}/pgdata`,
        VIGIL_EXPORTER_LISTEN: `127.0.0.1:${exporterPort}`,
        VIGIL_SCRAPER_LISTEN: `127.0.0.1:${scraperPort}`,
        VIGIL_CONSOLE_LISTEN: `127.0.0.1:${consolePort}`,
        VIGIL_LOCAL_INTERVAL: '1s',
        VIGIL_LOG_LEVEL: 'warn',
      },
      (s) => output.push(s),
    );
    expect(vigil.consoleUrl).toBe(`http://localhost:${consolePort}`);
    expect(output.join('')).toContain(`target: ${os.hostname()} → http://127.0.0.1:${exporterPort}/metrics`);

    const db = await createDb(vigil.databaseUrl, { max: 1 });
    try {
      const target = await until('the local target is up', 30, async () => (await listTargets(db)).find((t) => t.state === 'up'));
      expect(target.name).toBe(os.hostname());
      const [hb] = await until('a heartbeat with cpu', 15, async () => {
        const h = await recentHeartbeats(db, target.id, 1);
        return h[0]?.cpu_usage_percent !== null && h;
      });
      expect(hb!.memory_total_bytes).toBe(Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024);
      expect(hb!.disk_total_bytes).toBeGreaterThan(0);
      expect(hb!.cpu_usage_percent).toBeGreaterThanOrEqual(0);

      // Signed out, the console sends you to sign in; the first start printed the admin's password once.
      const signedOut = await fetch(vigil.consoleUrl, { redirect: 'manual' });
      expect(signedOut.status).toBe(303);
      const password = /first start: created the console user "admin" with the password\n\n {4}(\S+)\n/.exec(output.join(''))?.[1];
      expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
      const signIn = await fetch(`${vigil.consoleUrl}/login`, {
        method: 'POST',
        headers: { origin: vigil.consoleUrl, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'admin', password: password! }),
        redirect: 'manual',
      });
      expect(signIn.status).toBe(303);
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
      const page = await (await fetch(vigil.consoleUrl, { headers: { cookie } })).text();
      expect(page).toContain(`data-target="${os.hostname()}"`);

      vigil.children.exporter.kill('SIGTERM');
      await until('the local target is down', 10, async () =>
        (await listTargets(db)).find((t) => t.id === target.id && t.state === 'down'),
      );
      const [down] = await listEvents(db, { targetId: target.id });
      expect(down).toMatchObject({ from_state: 'up', to_state: 'down' });
      expect(down!.message).toMatch(/no successful scrape for 3 intervals \(3 s\); last error: connection refused/);
    } finally {
      await db.destroy();
    }
  }, 120_000);

  it('refuses an in-memory database, which its processes could not share', async () => {
    await expect(startLocal({ DATABASE_URL: 'pglite://memory' }, () => {})).rejects.toThrow(/needs a database its processes can share/);
  });

  it('stops on a bad exporter setting before migrating or starting anything, naming the variable', async () => {
    const data = path.join(dir, 'never-created');
    const printed: string[] = [];
    const err = await startLocal({ ...process.env, DATABASE_URL: `pglite://${data}`, VIGIL_COLLECTOR_TIMEOUT: 'soon' }, (s) =>
      printed.push(s),
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /^the exporter would not start: invalid configuration:\n\s+VIGIL_COLLECTOR_TIMEOUT: expected a duration/,
    );
    expect(existsSync(data)).toBe(false); // no database opened, nothing migrated
    expect(printed.join('')).not.toMatch(/started, pid/);
  });

  it('stops on a bad listen address, naming it', async () => {
    await expect(startLocal({ VIGIL_CONSOLE_LISTEN: 'everywhere' }, () => {})).rejects.toThrow(/VIGIL_CONSOLE_LISTEN/);
  });
});

describe("vigil start's variables", () => {
  it('are described once, with the defaults its schema gives, and named in vigil --help', () => {
    expect(checkVariableDocs(START_SCHEMA, START_VARIABLE_DOCS)).toEqual([]);
    for (const name of Object.keys(START_SCHEMA.shape)) expect(HELP).toContain(name);
  });
});
