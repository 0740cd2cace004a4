import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scrapeTarget } from '@vigil/core/scrape';
import { packageBin, until } from '@vigil/core/testing';
import { createDb, getTargetWithHeartbeat, queryTargets } from '@vigil/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseImages, docker, dockerMissing, REPO, readmeBlocks, run } from './docker.js';

// The README's "Add a host", run as printed: `npm run release` here, then the
// tarball unpacked and install.sh run as root on a clean Debian 12 (a container
// of Debian's own packages: its nodejs 18.20 and systemd, no checkout, no npm),
// then the registration command install.sh prints, run here against a database.
const missing = dockerMissing();
const name = `vigil-host-${process.pid}`;
const network = `vigil-install-${process.pid}`;
const work = mkdtempSync(path.join(tmpdir(), 'vigil-install-'));
const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const [release, install, register] = readmeBlocks(readme, '## Add a host');
let printed = '';
let address = '';
const inHost = (script: string) => docker('exec', name, 'sh', '-c', script);

describe.skipIf(missing)('Add a host, as the README prints it', () => {
  beforeAll(() => {
    const image = baseImages('--host');
    docker('network', 'create', network);
    docker('run', '-d', '--name', name, '--hostname', 'pi-1', '--network', network, '-w', '/root', image, 'sleep', 'infinity');
    address = docker('inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name);
  }, 900_000);

  afterAll(() => {
    if (missing) return;
    docker('rm', '-f', name);
    docker('network', 'rm', network);
    rmSync(work, { recursive: true, force: true });
  });

  it('makes the tarball, unpacks it and installs it on a clean Debian 12', () => {
    expect(release).toBe('npm run release');
    run('sh', ['-c', release!], { cwd: REPO, timeout: 300_000, env: process.env });
    // "copy it to the host"
    const tarball = readdirSync(path.join(REPO, 'release')).find((f) => /^vigil-exporter-.*-linux-.*\.tar\.gz$/.test(f))!;
    docker('cp', path.join(REPO, 'release', tarball), `${name}:/root/${tarball}`);
    const [unpack, installSh] = install!.split('\n');
    expect(unpack).toBe('tar xzf vigil-exporter-*-linux-*.tar.gz');
    inHost(unpack!);
    expect(installSh).toMatch(/^sudo \.\/vigil-exporter\/install\.sh --name pi-1$/);
    printed = inHost(`${installSh} 2>&1`);
    expect(printed).toMatch(/installed the exporter \(0\.\d+\.\d+, for x64\) in \/opt\/vigil\/exporter/);
    expect(printed).toContain('made a new token in /etc/vigil/exporter.token');
    // The token is root's alone, and never printed.
    expect(inHost('stat -c "%a %U:%G" /etc/vigil/exporter.token /etc/vigil/exporter.env')).toBe('600 root:root\n600 root:root');
    expect(printed).not.toContain(inHost('cat /etc/vigil/exporter.token'));
    // No checkout and no npm on the host: only what the tarball holds.
    expect(inHost('command -v npm || echo none')).toBe('none');
    expect(inHost('node --version')).toMatch(/^v18\.20\./);
    // Run again (an upgrade): the program replaced, the settings and the token kept.
    const token = inHost('cat /etc/vigil/exporter.token');
    inHost("echo 'VIGIL_LOG_LEVEL=debug' >> /etc/vigil/exporter.env");
    const again = inHost(`${installSh} 2>&1`);
    expect(again).not.toContain('made a new token');
    expect(inHost('cat /etc/vigil/exporter.token')).toBe(token);
    expect(inHost('cat /etc/vigil/exporter.env')).toContain('VIGIL_LOG_LEVEL=debug');
    expect(inHost('ls /opt/vigil')).toBe('exporter');
  });

  it("installs a unit that passes systemd-analyze verify, run by the host's Node.js with the exporter's flags", () => {
    const unit = inHost('cat /etc/systemd/system/vigil-exporter.service');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node --single-threaded .* \/opt\/vigil\/exporter\/bin\/vigil-exporter\.js$/m);
    expect(unit).toContain('LoadCredential=exporter-token:/etc/vigil/exporter.token');
    expect(unit).not.toMatch(/^SupplementaryGroups=docker$/m); // no docker group on this host: the unit would not start
    expect(inHost('systemd-analyze verify /etc/systemd/system/vigil-exporter.service 2>&1; echo "exit $?"')).toBe('exit 0');
  });

  it("answers /metrics under Debian 12's Node.js 18 with the token, and 401 without", async () => {
    // No systemd runs in the container: the unit's command, with the credential systemd would hand over.
    const exec = /^ExecStart=(.*)$/m.exec(inHost('cat /etc/systemd/system/vigil-exporter.service'))![1]!;
    docker(
      'exec',
      '-d',
      name,
      'sh',
      '-c',
      `set -a && . /etc/vigil/exporter.env && VIGIL_EXPORTER_TOKEN_FILE=/etc/vigil/exporter.token exec ${exec} > /tmp/exporter.log 2>&1`,
    );
    const token = inHost('cat /etc/vigil/exporter.token');
    const url = `http://${address}:9110/metrics`;
    const ok = await until('the installed exporter answering', 30, async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
      return res?.ok ? res.text() : null;
    });
    expect(ok).toMatch(/^node_memory_MemTotal_bytes \d/m);
    expect(ok).toMatch(/^node_uname_info\{.*nodename="pi-1"/m);
    expect((await fetch(url)).status).toBe(401);
    expect(inHost('cat /tmp/exporter.log')).toContain('exporter listening');
  });

  it('registers with the command install.sh prints, and the scraper then reaches it with its own token', async () => {
    const copy = /^\s+\(umask 077 && ssh root@(\S+) cat \/etc\/vigil\/exporter\.token > (\S+)\)$/m.exec(printed);
    expect(copy?.[2]).toBe('pi-1.token');
    // The copy over ssh, done with docker exec; the file keeps the mode it would have.
    writeFileSync(path.join(work, copy![2]!), inHost('cat /etc/vigil/exporter.token'), { mode: 0o600 });
    const add = /^\s+npx vigil targets add (\S+) (\S+) --token-file (\S+)$/m.exec(printed);
    expect(add?.slice(1)).toEqual(['pi-1', 'http://pi-1:9110/metrics', 'pi-1.token']);
    expect(register).toBe('npx vigil targets add pi-1 http://pi-1.lan:9110/metrics --token-file pi-1.token');
    // "pi-1" resolves only inside its network: the same command with its address.
    const database = `pglite://${path.join(work, 'db')}`;
    const vigil = packageBin('@vigil/cli', 'vigil', import.meta.url);
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [vigil, ...args], { cwd: work, env: { ...process.env, DATABASE_URL: database }, encoding: 'utf8' });
    cli('migrate');
    expect(cli('targets', 'add', add![1]!, `http://${address}:9110/metrics`, '--token-file', add![3]!)).toMatch(
      /^added pi-1 .*with its own token/,
    );
    const db = await createDb(database);
    try {
      const [target] = (await queryTargets(db, {})).items;
      const stored = await getTargetWithHeartbeat(db, target!.id);
      const scrape = await scrapeTarget(stored!.url, { token: stored!.token ?? undefined, timeoutSeconds: 5, bodyLimitBytes: 1 << 24 });
      expect(scrape).toMatchObject({ up: true });
    } finally {
      await db.destroy();
    }
  });

  it('turns the host to enrol by itself with --console: settings, the token as a root-only credential, the state directory', () => {
    const installSh = install!.split('\n')[1]!;
    inHost("printf 'vge_an-enrolment-token-for-the-test\\n' > /root/enrol.token");
    // Without the token the first time: refused before anything is touched.
    expect(inHost(`${installSh} --console https://vigil.example.com 2>&1 || true`)).toMatch(
      /--enrol-token-file FILE is needed the first time/,
    );
    expect(inHost(`${installSh} --connect 2>&1 || true`)).toMatch(/--enrol-token-file and --connect need --console URL/);
    const out = inHost(
      `${installSh} --console https://vigil.example.com --enrol-token-file /root/enrol.token --connect --labels rack=a 2>&1`,
    );
    expect(out).toContain('this host enrols itself with https://vigil.example.com, connecting out (no port listened on)');
    expect(out).not.toContain('vigil targets add');
    expect(out).not.toContain('vge_an-enrolment-token');
    const env = inHost('cat /etc/vigil/exporter.env');
    expect(env).toMatch(/^VIGIL_CONSOLE_URL=https:\/\/vigil\.example\.com$/m);
    expect(env).toMatch(/^VIGIL_HOST_NAME=pi-1$/m);
    expect(env).toMatch(/^VIGIL_HOST_LABELS=rack=a$/m);
    expect(env).toMatch(/^VIGIL_CONNECT=1$/m);
    expect(env).not.toContain('vge_');
    expect(inHost('stat -c "%a %U:%G" /etc/vigil/enrol.token')).toBe('600 root:root');
    const dropin = inHost('cat /etc/systemd/system/vigil-exporter.service.d/enrol.conf');
    expect(dropin).toContain('LoadCredential=enrol-token:/etc/vigil/enrol.token');
    expect(dropin).toContain('StateDirectory=vigil-exporter');
    expect(inHost('systemd-analyze verify /etc/systemd/system/vigil-exporter.service 2>&1; echo "exit $?"')).toBe('exit 0');
    // Again without the token (an upgrade of an enrolled host): the kept one stays, the settings are not doubled.
    inHost(`${installSh} --console https://vigil.example.com --connect --labels rack=a`);
    expect(inHost('grep -c ^VIGIL_CONSOLE_URL= /etc/vigil/exporter.env')).toBe('1');
    expect(inHost('cat /etc/vigil/enrol.token')).toBe('vge_an-enrolment-token-for-the-test');
  });
});
