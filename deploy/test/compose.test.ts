import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closedPort, TEST_DOCKER_IMAGE, until } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseImages, DOCKER_HOST, docker, dockerEnv, dockerMissing, REPO, readmeBlocks, run } from './docker.js';

// docker-compose.yml as the README's "Deploy with Docker Compose" runs it, on the
// test engine, from a copy of this checkout's files (so the README's .env is
// written there, never into the checkout). The registry is out of reach, so the
// base images are made locally and named through the build arguments; the
// engine has no default bridge, so the build uses the host's network. Debian's
// docker-compose (1.29) stands in for `docker compose` where the plugin is missing.
const missing = dockerMissing();
const project = `vigiltest${process.pid}`;
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-compose-'));
const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const [setup] = readmeBlocks(readme, '## Deploy with Docker Compose');
let env: NodeJS.ProcessEnv = {};
let consoleUrl = '';
let password = '';
const MiB = 1024 * 1024;

/** `docker compose` where the plugin is there, else Debian's docker-compose. */
function composeCommand(): string {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore', env: dockerEnv() });
    return 'docker compose';
  } catch {
    return 'docker-compose';
  }
}
const compose = (...args: string[]) => {
  const [cmd, ...pre] = composeCommand().split(' ');
  return run(cmd!, [...pre, ...args], { cwd: dir, env, timeout: 900_000 });
};
/** A shell line of the README, run in the copy with `docker compose` as this machine spells it. */
const shell = (line: string) => {
  const t0 = Date.now();
  try {
    return run('sh', ['-c', line.replaceAll('docker compose', composeCommand())], { cwd: dir, env, timeout: 900_000 });
  } finally {
    process.stderr.write(`compose test: ${line.slice(0, 60)} took ${Math.round((Date.now() - t0) / 1000)} s\n`);
  }
};

/**
 * Signs in as the admin. On a connection of its own (no keep-alive pool): a
 * POST sent on a pooled connection just as the console's server closes it
 * for idleness (5 s) fails with "other side closed", and is not retried.
 */
function signIn(): Promise<string> {
  const body = new URLSearchParams({ name: 'admin', password }).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${consoleUrl}/login`,
      {
        method: 'POST',
        agent: false,
        headers: {
          origin: consoleUrl,
          accept: 'text/html',
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        try {
          expect(res.statusCode).toBe(303);
          resolve(String(res.headers['set-cookie']?.[0]).split(';')[0]!);
        } catch (err) {
          reject(err);
        }
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface TargetView {
  id: number;
  name: string;
  state: string;
  heartbeat: { up: boolean; memory_total_bytes: number | null; disk_total_bytes: number | null } | null;
}
async function composeHost(cookie: string): Promise<TargetView | undefined> {
  const res = await fetch(`${consoleUrl}/api/v1/targets`, { headers: { cookie }, signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { items: TargetView[] }).items.find((t) => t.name === 'compose-host');
}

describe.skipIf(missing)('Deploy with Docker Compose, as the README prints it', () => {
  beforeAll(async () => {
    // The checkout's files as a fresh clone has them (tracked and new, not ignored).
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO });
    execFileSync('sh', ['-c', `tar -C "${REPO}" --null -T - -cf - | tar -C "${dir}" -xf -`], { input: files });
    const buildArgs = baseImages();
    const arg = (name: string) => new RegExp(`${name}=(\\S+)`).exec(buildArgs)![1]!;
    const consolePort = await closedPort();
    consoleUrl = `http://127.0.0.1:${consolePort}`;
    env = dockerEnv({
      COMPOSE_PROJECT_NAME: project,
      VIGIL_IMAGE_PREFIX: project,
      NODE_IMAGE: arg('NODE_IMAGE'),
      BUILD_IMAGE: arg('BUILD_IMAGE'),
      POSTGRES_IMAGE: baseImages('--postgres'),
      VIGIL_BUILD_NETWORK: 'host',
      VIGIL_CONSOLE_PUBLISH: `127.0.0.1:${consolePort}`,
      VIGIL_CONSOLE_ORIGIN: consoleUrl,
      VIGIL_EXPORTER_PORT: String(await closedPort()),
      DOCKER_SOCKET: new URL(DOCKER_HOST!).pathname,
    });
  }, 900_000);

  afterAll(() => {
    if (missing) return;
    for (const c of ['beside', 'unlabelled']) docker('rm', '-f', `${project}-${c}`);
    try {
      compose('down', '-v');
    } finally {
      for (const p of ['exporter', 'scraper', 'console']) {
        try {
          docker('rmi', `${project}-${p}:latest`);
        } catch {
          // not built: the test failed before
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes .env from .env.example with every secret filled, and refuses to start without each one, naming it', () => {
    expect(setup).toBeDefined();
    const lines = setup!.split(/\n(?!\s)/); // a line continued with "\" stays one command
    expect(lines[0]).toMatch(/^sed .* \.env\.example > \.env$/s);
    shell(lines[0]!);
    const dotenv = readFileSync(path.join(dir, '.env'), 'utf8');
    for (const name of ['POSTGRES_PASSWORD', 'VIGIL_EXPORTER_TOKEN', 'DOCKER_GID']) {
      expect(dotenv).toMatch(new RegExp(`^${name}=\\S+$`, 'm'));
      // Left empty, it stops `up` before anything starts, saying which.
      writeFileSync(path.join(dir, 'broken.env'), dotenv.replace(new RegExp(`^${name}=\\S+$`, 'm'), `${name}=`));
      expect(() => compose('--env-file', 'broken.env', 'config')).toThrow(new RegExp(`set ${name} in \\.env`));
    }
    expect(Number(/^DOCKER_GID=(\d+)$/m.exec(dotenv)?.[1])).toBe(statSync(new URL(DOCKER_HOST!).pathname).gid);
    expect(compose('config')).toContain('vigil.monitor');
    // Terminals: off unless deploy/compose/terminals.yml is added, and then only with a user to run shells as.
    expect(compose('config')).not.toContain('VIGIL_PTY_HOST_NAMESPACES');
    const terminals = ['-f', 'docker-compose.yml', '-f', 'deploy/compose/terminals.yml', 'config'];
    expect(() => compose(...terminals)).toThrow(/set VIGIL_PTY_USER in \.env/);
    writeFileSync(path.join(dir, '.env'), `${dotenv}VIGIL_PTY_USER=alice\n`);
    const withTerminals = compose(...terminals);
    expect(withTerminals).toMatch(/VIGIL_PTY_HOST_NAMESPACES: '1'/);
    expect(withTerminals).toMatch(/cap_drop:\n\s+- ALL/);
    writeFileSync(path.join(dir, '.env'), dotenv);
    // Every other Docker host: the exporter alone, with the same host access and the same refusal of a missing token.
    const alone = ['-f', 'deploy/compose/exporter.yml', '--project-directory', 'deploy/compose', '--env-file', path.join(dir, '.env')];
    const exporterOnly = compose(...alone, 'config');
    expect(exporterOnly).toMatch(/network_mode: host/);
    expect(exporterOnly).toMatch(/- \/:\/host:ro,rslave/);
    expect(exporterOnly).not.toMatch(/^\s+(postgres|scraper|console):$/m);
    expect(() => compose(...alone.slice(0, -1), path.join(dir, 'broken.env'), 'config')).toThrow(
      /set (VIGIL_EXPORTER_TOKEN|DOCKER_GID) in \.env/,
    );
  });

  it('adds a second scraper, a second console and nginx in front with deploy/compose/replicas.yml', () => {
    const replicas = compose('-f', 'docker-compose.yml', '-f', 'deploy/compose/replicas.yml', 'config');
    for (const service of ['postgres', 'scraper', 'scraper-2', 'console', 'console-2', 'proxy', 'exporter'])
      expect(replicas).toMatch(new RegExp(`^  ${service}:$`, 'm'));
    // Both consoles behind the proxy, which nginx.conf names by their service names.
    expect(replicas.match(/VIGIL_CONSOLE_PROXY_HOPS: '1'/g)).toHaveLength(2);
    expect(replicas).toMatch(/deploy\/compose\/nginx\.conf:\/etc\/nginx\/conf\.d\/default\.conf:ro/);
    const nginx = readFileSync(path.join(dir, 'deploy/compose/nginx.conf'), 'utf8');
    expect([...nginx.matchAll(/^\s+server (\S+):3000/gm)].map((m) => m[1])).toEqual(['console', 'console-2']);
    expect(nginx).toMatch(/^\s+listen 8080;$/m);
    expect(replicas).toMatch(/published: 8080\n\s+target: 8080|127\.0\.0\.1:8080:8080/);
  });

  it('builds the images and brings the stack up; the first admin password is in the console log', async () => {
    const lines = setup!.split(/\n(?!\s)/);
    expect(lines.slice(1)).toEqual(['docker compose up -d --build', "docker compose logs console | grep -A 2 'first start'"]);
    shell(lines[1]!);
    await until(
      'the console answering /health/db',
      120,
      async () => (await fetch(`${consoleUrl}/health/db`, { signal: AbortSignal.timeout(5000) }).catch(() => null))?.ok,
    );
    expect((await fetch(`${consoleUrl}/health`)).status).toBe(200);
    const shown = shell(lines[2]!);
    // Each log line starts with the container's name and "|"; the password is the first word after the announcement.
    // (docker-compose 1.29 colours the names even into a pipe.)
    const said = shown
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .map((l) => l.slice(l.indexOf('|') + 1).trim());
    password = said.slice(said.findIndex((l) => l.includes('with the password')) + 1).find((l) => l !== '') ?? '';
    expect(password).toMatch(/^[\w-]{20}$/);
  });

  it("shows the compose host up, with the host's memory and root filesystem (not the container's)", async () => {
    const cookie = await signIn();
    const host = await until('compose-host up with a heartbeat', 90, async () => {
      const t = await composeHost(cookie);
      return t?.state === 'up' && t.heartbeat?.memory_total_bytes ? t : null;
    });
    const memTotal = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    const root = statfsSync('/');
    expect(host.heartbeat!.memory_total_bytes).toBe(memTotal);
    expect(Math.abs(host.heartbeat!.disk_total_bytes! / (root.blocks * root.bsize) - 1)).toBeLessThan(0.01);
  });

  it('lists a labelled container started beside the stack on the host page, and not an unlabelled one', async () => {
    const image = TEST_DOCKER_IMAGE;
    docker('run', '-d', '--name', `${project}-beside`, '--network', 'none', '--label', 'vigil.monitor=true', image, 'sleep', '600');
    docker('run', '-d', '--name', `${project}-unlabelled`, '--network', 'none', image, 'sleep', '600');
    const cookie = await signIn();
    const { id } = (await composeHost(cookie))!;
    const page = await until('the labelled container on the host page', 60, async () => {
      const html = await (await fetch(`${consoleUrl}/hosts/${id}`, { headers: { cookie }, signal: AbortSignal.timeout(10_000) })).text();
      return html.includes(`${project}-beside`) ? html : null;
    });
    expect(page).toContain(`${project}_console_1`); // the stack's own, labelled too
    expect(page).not.toContain(`${project}-unlabelled`);
  });

  it('built images that run as their own user, with a health check and OCI labels; the exporter adds under 15 MB to its base', () => {
    const base = JSON.parse(docker('image', 'inspect', env.NODE_IMAGE!))[0] as { Size: number };
    for (const program of ['exporter', 'scraper', 'console']) {
      const [image] = JSON.parse(docker('image', 'inspect', `${project}-${program}:latest`)) as {
        Size: number;
        Config: { User: string; Healthcheck?: { Test: string[] }; Labels: Record<string, string> };
      }[];
      expect(image!.Config.User).toBe('10001:10001');
      expect(image!.Config.Healthcheck?.Test.join(' ')).toMatch(/^CMD node \/opt\/vigil\/healthcheck\.mjs VIGIL_\w+_LISTEN /);
      expect(image!.Config.Labels).toMatchObject({ 'org.opencontainers.image.title': `vigil-${program}` });
      if (program === 'exporter') {
        expect((image!.Size - base.Size) / MiB).toBeLessThan(15);
        // What deploy/compose/terminals.yml has it run.
        expect(docker('run', '--rm', '--network', 'none', '--entrypoint', 'nsenter', `${project}-${program}:latest`, '--version')).toMatch(
          /util-linux/,
        );
      }
    }
    // The health checks pass where they run: in the containers.
    for (const program of ['scraper', 'console', 'exporter']) {
      expect(docker('inspect', '--format', '{{.State.Health.Status}}', `${project}_${program}_1`)).toMatch(/^(healthy|starting)$/);
      const [, , , variable, address, checked] = JSON.parse(
        docker('inspect', '--format', '{{json .Config.Healthcheck.Test}}', `${project}_${program}_1`),
      );
      docker('exec', `${project}_${program}_1`, 'node', '/opt/vigil/healthcheck.mjs', variable, address, checked);
    }
  });

  it('records the host stopped, not down, when its exporter is stopped (its goodbye)', async () => {
    compose('stop', 'exporter');
    const cookie = await signIn();
    await until('compose-host stopped', 60, async () => (await composeHost(cookie))?.state === 'stopped');
    const events = (await (await fetch(`${consoleUrl}/api/v1/events`, { headers: { cookie } })).json()) as {
      items: { from_state: string; to_state: string; message: string }[];
    };
    expect(events.items[0]).toMatchObject({ from_state: 'up', to_state: 'stopped' });
  });

  it('keeps the data through docker compose down and up (the volume)', async () => {
    compose('down');
    compose('up', '-d');
    await until(
      'the console answering again',
      120,
      async () => (await fetch(`${consoleUrl}/health/db`, { signal: AbortSignal.timeout(5000) }).catch(() => null))?.ok,
    );
    const cookie = await signIn(); // the same admin and password
    const events = (await (await fetch(`${consoleUrl}/api/v1/events`, { headers: { cookie } })).json()) as {
      items: { to_state: string }[];
    };
    expect(events.items.map((e) => e.to_state)).toContain('stopped');
    expect(compose('logs', 'console')).not.toMatch(/first start/); // no second admin, no second password
    await until('compose-host up again', 90, async () => (await composeHost(cookie))?.state === 'up');
  });
});
