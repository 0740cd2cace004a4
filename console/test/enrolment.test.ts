import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { generateTicketKeys } from '@vigil/core/pty';
import { ensureBuilt, freePort, opened, openPty, packageBin, REPO, until } from '@vigil/core/testing';
import { createApiKey, createDb, createSession, createUser, type Database, migrateToLatest } from '@vigil/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEnrolmentTokenView, TargetView } from '$lib/api';
import { formatBytes } from '$lib/format';
import { sharedTestDatabase } from './database.js';
import { started } from './relay.js';

/** A running exporter process and what it printed. */
interface Exporter {
  child: ChildProcess;
  output: string[];
  port: number;
  exited: Promise<number | null>;
}

// Hosts enrol by themselves, every program as hosts run it: the built console
// (with its signing key), the scraper, and exporters each with a state directory
// of its own, on the real database (TEST_DATABASE_URL's server, else PGlite).
describe('enrolment with real processes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-enrol-'));
  const cleanups: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  let db: Kysely<Database>;
  let consoleUrl = '';
  let apiKey = '';
  let publicKeyPem = '';
  let consolePort = 0;
  let scraperPort = 0;

  const call = async <T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await fetch(consoleUrl + p, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (r.status === 204 ? null : await r.json()) as T };
  };
  const makeToken = async (body: Record<string, unknown>) => {
    const r = await call<NewEnrolmentTokenView>('POST', '/api/v1/enrolment-tokens', body);
    expect(r.status).toBe(201);
    return r.body.token;
  };
  const targets = async (query = '') => (await call<{ items: TargetView[] }>('GET', `/api/v1/targets?per_page=500${query}`)).body.items;

  /** Starts the built exporter with a state directory (`state`, made under the test's directory) and `env`. */
  const exporter = async (state: string, env: Record<string, string>): Promise<Exporter> => {
    const port = await freePort();
    const child = spawn(path.join(REPO, 'exporter/bin/vigil-exporter.js'), [], {
      env: {
        PATH: process.env.PATH,
        VIGIL_EXPORTER_LISTEN: `127.0.0.1:${port}`,
        VIGIL_CONSOLE_URL: consoleUrl,
        VIGIL_STATE_DIR: path.join(dir, state),
        VIGIL_DISABLED_COLLECTORS: 'containers',
        VIGIL_EXPORTER_STOP_GRACE: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on('line', (l) => output.push(l));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    cleanups.push(() => child.kill('SIGKILL'));
    return { child, output, port, exited };
  };
  const enrolled = (e: Exporter) => until('the exporter to enrol', 30, async () => e.output.some((l) => l.includes('"msg":"enrolled')));

  beforeAll(async () => {
    ensureBuilt('console', 'dist/server.mjs', ['console/src', 'core/src', 'db/src', 'migrations/src']);
    ensureBuilt('exporter', 'dist/vigil-exporter.mjs', ['exporter/src', 'exporter/bin', 'core/src']);
    ensureBuilt('scraper', 'dist/vigil-scraper.mjs', ['scraper/src', 'core/src', 'db/src', 'migrations/src']);
    const database = await sharedTestDatabase(dir, 'vigil_enrol');
    cleanups.push(() => database.drop());
    db = await createDb(database.url, { max: 2 });
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);
    const admin = await createUser(db, { name: 'root-admin', role: 'admin', password: 'admin-long-password-1' });
    apiKey = (await createApiKey(db, admin.id, 'enrol-test')).key;
    const keys = await generateTicketKeys();
    publicKeyPem = keys.publicKeyPem;
    writeFileSync(path.join(dir, 'console.pem'), keys.privateKeyPem, { mode: 0o600 });
    const port = await freePort();
    consolePort = port;
    consoleUrl = `http://127.0.0.1:${port}`;
    const consoleProcess = spawn(packageBin('@vigil/console', 'vigil-console', import.meta.url), [], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database.url,
        VIGIL_CONSOLE_LISTEN: `127.0.0.1:${port}`,
        VIGIL_CONSOLE_ORIGIN: `http://localhost:${port}`,
        VIGIL_CONSOLE_PRIVATE_KEY: path.join(dir, 'console.pem'),
        VIGIL_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => consoleProcess.kill('SIGKILL'));
    await started(consoleProcess, /^console listening/, 'vigil-console');
    scraperPort = await freePort();
    const scraper = spawn(packageBin('@vigil/scraper', 'vigil-scraper', import.meta.url), [], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database.url,
        VIGIL_SCRAPER_LISTEN: `127.0.0.1:${scraperPort}`,
        VIGIL_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    cleanups.push(() => scraper.kill('SIGKILL'));
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('enrols two hosts with a token good for two, refuses the third saying why, and keeps a restarted host its target', async () => {
    const token = await makeToken({ name: 'rack-a', max_uses: 2, labels: { rack: 'a' } });
    const one = await exporter('one', {
      VIGIL_ENROL_TOKEN: token,
      VIGIL_HOST_NAME: 'node-1',
      VIGIL_HOST_PROVIDER: 'home',
      VIGIL_HOST_REGION: 'attic',
    });
    await enrolled(one);
    const two = await exporter('two', { VIGIL_ENROL_TOKEN: token, VIGIL_HOST_NAME: 'node-2', VIGIL_HOST_LABELS: 'role=web' });
    await enrolled(two);
    const three = await exporter('three', { VIGIL_ENROL_TOKEN: token, VIGIL_HOST_NAME: 'node-3' });
    expect(await three.exited).toBe(2);
    expect(three.output.join('\n')).toMatch(
      /refused: the enrolment token "rack-a" has enrolled its 2 hosts already; ask an admin for another/,
    );

    const hosts = await targets();
    expect(hosts.map((t) => t.name)).toEqual(['node-1', 'node-2']);
    const node1 = hosts[0]!;
    expect(node1).toMatchObject({
      labels: { rack: 'a' },
      source: 'enrolment',
      has_token: true,
      pending_approval: false,
      connects_out: false,
    });
    expect(node1.url).toBe(`http://127.0.0.1:${one.port}/metrics`);
    expect(node1.metadata).toMatchObject({ provider: 'home', region: 'attic', arch: process.arch, exporter_version: '0.1.0' });
    expect(node1.metadata.cores).toBeGreaterThan(0);
    expect(hosts[1]!.labels).toEqual({ rack: 'a', role: 'web' });
    // The API filters by what hosts said, and by any label.
    expect((await targets('&provider=home')).map((t) => t.name)).toEqual(['node-1']);
    expect((await targets('&region=attic&label=rack=a')).map((t) => t.name)).toEqual(['node-1']);
    expect((await targets('&label=role=web')).map((t) => t.name)).toEqual(['node-2']);
    const tokens = (
      await call<{ items: { name: string; uses: number; uses_left: number; usable: boolean }[] }>('GET', '/api/v1/enrolment-tokens')
    ).body.items;
    expect(tokens.find((t) => t.name === 'rack-a')).toMatchObject({ uses: 2, uses_left: 0, usable: false });

    // Each host's own credential: one host's does not open another's exporter, nor does none.
    const credentials = Object.fromEntries(
      (await db.selectFrom('targets').select(['name', 'token']).execute()).map((t) => [t.name, t.token!]),
    );
    const metrics = (port: number, credential?: string) =>
      fetch(`http://127.0.0.1:${port}/metrics`, { headers: credential ? { authorization: `Bearer ${credential}` } : {} }).then(
        (r) => r.status,
      );
    expect(await metrics(one.port)).toBe(401);
    expect(await metrics(one.port, credentials['node-2'])).toBe(401);
    expect(await metrics(one.port, credentials['node-1'])).toBe(200);

    // The token is never kept by the exporter, nor printed.
    for (const state of ['one', 'two']) {
      for (const f of readdirSync(path.join(dir, state))) expect(readFileSync(path.join(dir, state, f), 'utf8')).not.toContain(token);
    }
    expect([...one.output, ...two.output, ...three.output].join('\n')).not.toContain(token);
    expect(one.output.join('\n')).not.toContain(credentials['node-1']);

    // Restarted without the token (used up anyway) and with a label changed: the same target, updated.
    one.child.kill('SIGTERM');
    expect(await one.exited).toBe(0);
    const again = await exporter('one', { VIGIL_HOST_NAME: 'node-1', VIGIL_HOST_LABELS: 'role=db', VIGIL_HOST_PROVIDER: 'home' });
    await until('node-1 to enrol again', 30, async () => again.output.some((l) => l.includes('"msg":"enrolled again"')));
    const after = await targets();
    expect(after.map((t) => [t.id, t.name])).toEqual(hosts.map((t) => [t.id, t.name]));
    expect(after[0]!).toMatchObject({ labels: { rack: 'a', role: 'db' }, url: `http://127.0.0.1:${again.port}/metrics` });
    expect(after[0]!.metadata.region).toBeUndefined();

    // Leaving: `vigil-exporter deregister` removes the host, with a request signed by its key.
    const leave = spawn(path.join(REPO, 'exporter/bin/vigil-exporter.js'), ['deregister'], {
      env: { PATH: process.env.PATH, VIGIL_CONSOLE_URL: consoleUrl, VIGIL_STATE_DIR: path.join(dir, 'two') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const said: string[] = [];
    createInterface({ input: leave.stdout! }).on('line', (l) => said.push(l));
    expect(await new Promise((r) => leave.once('exit', r))).toBe(0);
    expect(said.join('\n')).toContain(`removed this host from ${consoleUrl}`);
    expect((await targets()).map((t) => t.name)).toEqual(['node-1']);
  });

  it('makes two hosts of two exporters copied from one image (same hostname), the second named apart', async () => {
    const token = await makeToken({ name: 'image', max_uses: 5 });
    // Same machine and hostname, same name asked: only the key in each state directory differs.
    const a = await exporter('clone-a', { VIGIL_ENROL_TOKEN: token, VIGIL_HOST_NAME: 'golden' });
    await enrolled(a);
    const b = await exporter('clone-b', { VIGIL_ENROL_TOKEN: token, VIGIL_HOST_NAME: 'golden' });
    await enrolled(b);
    expect(b.output.join('\n')).toMatch(/another host \(another key\) is enrolled as golden: this one is golden-2; set VIGIL_HOST_NAME/);
    const clones = (await targets('&q=golden')).map((t) => [t.name, t.metadata.name_conflict ?? null, t.metadata.hostname]);
    expect(clones).toEqual([
      ['golden', null, clones[0]![2]],
      ['golden-2', 'golden', clones[0]![2]],
    ]);
    // The first keeps its record: restarted, it is still `golden`, with its own URL.
    const golden = (await targets('&q=golden'))[0]!;
    expect(golden.url).toBe(`http://127.0.0.1:${a.port}/metrics`);
  });

  it('keeps a host that waits for approval unscraped until an admin approves it', async () => {
    const token = await makeToken({ name: 'gated', require_approval: true });
    const fast = await exporter('fast', { VIGIL_ENROL_TOKEN: await makeToken({ name: 'open' }), VIGIL_HOST_NAME: 'open-host' });
    await enrolled(fast);
    const gated = await exporter('gated', { VIGIL_ENROL_TOKEN: token, VIGIL_HOST_NAME: 'gated-host' });
    await until('the gated host to enrol', 30, async () => gated.output.some((l) => l.includes('waiting for an admin to approve')));
    const [open] = await targets('&q=open-host');
    const [pending] = await targets('&pending=1');
    expect(pending).toMatchObject({ name: 'gated-host', pending_approval: true, paused: true });
    for (const t of [open!, pending!])
      expect((await call('PATCH', `/api/v1/targets/${t.id}`, { interval_seconds: 1, timeout_seconds: 1 })).status).toBe(200);
    const beats = async (id: number) =>
      Number(
        (
          await db
            .selectFrom('heartbeats')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('target_id', '=', id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    // The scraper is at work: the open host gets three heartbeats, and meanwhile the pending one none.
    await until('three heartbeats of the open host', 60, async () => (await beats(open!.id)) >= 3);
    expect(await beats(pending!.id)).toBe(0);
    // An operator may not approve; an admin does.
    const approved = await call<TargetView>('POST', `/api/v1/targets/${pending!.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ pending_approval: false, paused: false, state: 'unknown' });
    await until('a heartbeat of the approved host', 60, async () => (await beats(pending!.id)) >= 1);
    expect((await call('POST', `/api/v1/targets/${pending!.id}/approve`)).status).toBe(409);
    const audit = await db
      .selectFrom('audit_log')
      .select(['action', 'user_name'])
      .where('action', 'in', ['host.enrol', 'target.approve'])
      .execute();
    expect(audit).toContainEqual({ action: 'host.enrol', user_name: 'enrolment token "gated"' });
    expect(audit).toContainEqual({ action: 'target.approve', user_name: 'root-admin' });
  });

  it('lets an exporter that pinned the console key check whom it enrolled with', async () => {
    const token = await makeToken({ name: 'pinned' });
    const pinned = await exporter('pinned', {
      VIGIL_ENROL_TOKEN: token,
      VIGIL_HOST_NAME: 'pinned-host',
      VIGIL_CONSOLE_PUBLIC_KEY: publicKeyPem,
      VIGIL_PTY_ALLOW_ROOT: '1',
    });
    await enrolled(pinned);
    // Another key pinned: the console's answer does not verify, and the exporter stops saying so.
    const other = await generateTicketKeys();
    const wrong = await exporter('wrong', {
      VIGIL_ENROL_TOKEN: token,
      VIGIL_HOST_NAME: 'wrong-host',
      VIGIL_CONSOLE_PUBLIC_KEY: other.publicKeyPem,
      VIGIL_PTY_ALLOW_ROOT: '1',
    });
    expect(await wrong.exited).toBe(2);
    expect(wrong.output.join('\n')).toMatch(/not signed by the pinned key \(VIGIL_CONSOLE_PUBLIC_KEY\)/);
  });

  it('scrapes a host that connects out and listens on no port, opens its terminal, and calls it down when cut, stopped on SIGTERM', async () => {
    const token = await makeToken({ name: 'nat', labels: { site: 'home' } });
    const env = {
      VIGIL_ENROL_TOKEN: token,
      VIGIL_HOST_NAME: 'behind-nat',
      VIGIL_CONNECT: '1',
      VIGIL_CONSOLE_PUBLIC_KEY: publicKeyPem,
      VIGIL_PTY_ALLOW_ROOT: '1',
      VIGIL_PTY_SHELL: '/bin/sh',
    };
    const nat = await exporter('nat', env);
    await until('the host to connect', 30, async () => nat.output.some((l) => l.includes('connected to the console')));
    // Not one listening socket of its own.
    const listening = spawnSync('ss', ['-Hltnp'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes(`pid=${nat.child.pid},`));
    expect(listening).toEqual([]);
    const [host] = await targets('&q=behind-nat');
    expect(host).toMatchObject({ connects_out: true, labels: { site: 'home' } });
    expect(host!.url).toBe(`http://127.0.0.1:${consolePort}/api/v1/connect/${host!.id}/metrics`);
    expect((await call('PATCH', `/api/v1/targets/${host!.id}`, { interval_seconds: 1, timeout_seconds: 1 })).status).toBe(200);
    // Scraped over its socket: up, with figures.
    const up = await until('the host to be up with figures', 60, async () => {
      const t = (await call<TargetView>('GET', `/api/v1/targets/${host!.id}`)).body;
      return t.state === 'up' && t.heartbeat?.memory_used_bytes ? t : null;
    });
    expect(up.heartbeat!.memory_total_bytes).toBeGreaterThan(0);
    // Its page shows the figures and what it said of itself.
    const hostPage = await (await fetch(`${consoleUrl}/hosts/${host!.id}`, { headers: { authorization: `Bearer ${apiKey}` } })).text();
    expect(hostPage).toContain('connects out to the console');
    expect(hostPage).toContain(formatBytes(up.heartbeat!.memory_total_bytes));
    expect(hostPage).toMatch(/data-fact="Architecture"[^>]*>x64|data-fact="Architecture"[^>]*>arm64/);
    // The relay wants the host's credential or an API key.
    const relay = `${consoleUrl}/api/v1/connect/${host!.id}/metrics`;
    expect((await fetch(relay)).status).toBe(401);
    const viaKey = await fetch(relay, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(viaKey.status).toBe(200);
    expect(await viaKey.text()).toMatch(/^node_memory_MemTotal_bytes \d+/m);

    // Prometheus, with the shipped configuration (its addresses pointed here, the API key's lines switched on), scrapes it through the console.
    writeFileSync(path.join(dir, 'vigil-api-key'), `${apiKey}\n`, { mode: 0o600 });
    const shipped = readFileSync(path.join(REPO, 'deploy/prometheus/prometheus.yml'), 'utf8');
    const config = shipped
      .replaceAll('127.0.0.1:9111', `127.0.0.1:${scraperPort}`)
      .replace(/(scrape_interval|evaluation_interval|refresh_interval): \d+s/g, '$1: 1s')
      .replace(
        '# authorization:\n    #   credentials_file: /etc/prometheus/vigil-api-key',
        `authorization:\n      credentials_file: ${path.join(dir, 'vigil-api-key')}`,
      )
      .replace('rule_files:\n  - rules/*.yml\n', '');
    expect(config).toContain(`credentials_file: ${dir}`);
    writeFileSync(path.join(dir, 'prometheus.yml'), config);
    const promPort = await freePort();
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    const query = async (q: string) =>
      (
        (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        }
      ).data.result;
    try {
      const scraped = await until('Prometheus to scrape the host through the console', 60, async () =>
        (await query('up{job="vigil-connected"}')).find((r) => r.value[1] === '1'),
      );
      expect(scraped.metric).toMatchObject({ instance: 'behind-nat', site: 'home', vigil_target: 'behind-nat' });
      expect(Number((await query('node_memory_MemTotal_bytes{instance="behind-nat"}'))[0]?.value[1])).toBeGreaterThan(0);
      // The other hosts (direct, here gone) are the other job's, never this one's.
      expect((await query('up{job="vigil-connected"}')).map((r) => r.metric.instance)).toEqual(['behind-nat']);
    } finally {
      prometheus.kill();
    }

    // Its terminal, through the console: the host dials back for it.
    const dev = await createUser(db, { name: 'nat-dev', role: 'developer', password: 'dev-long-password-12' });
    const session = (await createSession(db, dev.id)).token;
    const c = opened(
      await openPty(`ws://127.0.0.1:${consolePort}/ws/terminal/${host!.id}?cols=80&rows=24`, {
        origin: `http://localhost:${consolePort}`,
        cookie: `vigil_session=${session}`,
      }),
    );
    await c.control('ready');
    c.type('echo over-$((6*7))\n');
    await c.waitFor('over-42');
    c.ws.close();

    // Cut (killed, its socket gone at once): down after the usual intervals.
    nat.child.kill('SIGKILL');
    await until(
      'the cut host to be down',
      60,
      async () => (await call<TargetView>('GET', `/api/v1/targets/${host!.id}`)).body.state === 'down',
    );
    // Back, then a SIGTERM: its goodbye crosses the socket, and it is stopped, not down.
    const back = await exporter('nat', { ...env, VIGIL_EXPORTER_STOP_GRACE: '10s' });
    await until(
      'the host to be up again',
      60,
      async () => (await call<TargetView>('GET', `/api/v1/targets/${host!.id}`)).body.state === 'up',
    );
    back.child.kill('SIGTERM');
    await until(
      'the host to be stopped',
      60,
      async () => (await call<TargetView>('GET', `/api/v1/targets/${host!.id}`)).body.state === 'stopped',
    );
    expect(await back.exited).toBe(0);
  });

  it("closes a removed host's socket at the next sweep, and refuses it until it enrols again", async () => {
    const token = await makeToken({ name: 'removable' });
    const gone = await exporter('gone', { VIGIL_ENROL_TOKEN: token, VIGIL_HOST_NAME: 'gone-host', VIGIL_CONNECT: '1' });
    await until('the host to connect', 30, async () => gone.output.some((l) => l.includes('connected to the console')));
    const [host] = await targets('&q=gone-host');
    expect((await call('DELETE', `/api/v1/targets/${host!.id}`)).status).toBe(204);
    await until('its socket to be closed', 15, async () => gone.output.some((l) => l.includes('"code":4004')));
    await until('its next dial to be refused', 15, async () => gone.output.some((l) => l.includes('no host is enrolled with this key')));
  });
});
