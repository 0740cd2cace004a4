import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigError } from '@vigil/core/config';
import type { Logger } from '@vigil/core/log';
import { type Credentials, createExporterApp } from './app.js';
import { buildCollectors } from './collectors/index.js';
import { loadServicesFile } from './collectors/services.js';
import type { ExporterConfig } from './config.js';
import { DockerClient } from './docker/client.js';
import { ContainerCache } from './docker/container-cache.js';
import { Goodbye } from './goodbye.js';
import { DEFAULT_MODULES, loadModulesFile } from './probe/modules.js';
import type { PtyServer } from './pty.js';

/** A running exporter. */
export interface RunningExporter {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /** `http://host:port` of the PTY socket's own listener (VIGIL_PTY_LISTEN); undefined when /pty is on the main one or off. */
  ptyUrl?: string;
  /**
   * Begins a clean shutdown: every request is answered goodbye (503,
   * `{"status":"stopping"}`) until each Vigil scraper seen recently has heard it
   * or the grace period (`VIGIL_EXPORTER_STOP_GRACE`) is over.
   */
  drain(): Promise<{ expected: number; told: number }>;
  /** Ends a drain in progress now. */
  cutDrain(): void;
  close(): Promise<void>;
  /** The app's request handler: what a connect-out exporter serves the console's relayed requests with. */
  handler: http.RequestListener;
  /** The server that takes terminal sockets (its `upgrade` goes to the PTY server); null when terminals are off. */
  ptyHttp: http.Server | null;
  /** Sets the id terminal tickets must name (an enrolled host's name, known once the console answers). */
  setExporterId(id: string): void;
}

/** What the caller decides beyond the configuration. */
export interface StartOptions {
  /** The tokens accepted (the fleet token and an enrolled credential); default: VIGIL_EXPORTER_TOKEN alone. */
  credentials?: Credentials;
  /** Listen on no port (the exporter connects out); default false. */
  noListen?: boolean;
}

/**
 * Builds the enabled collectors and serves the exporter on `config.listen`.
 * @throws the listen error (EADDRINUSE, EACCES) with the address in the message
 */
export async function startExporter(config: ExporterConfig, log: Logger, start: StartOptions = {}): Promise<RunningExporter> {
  const services = config.servicesFile ? await loadServicesFile(config.servicesFile) : [];
  const probeModules = config.probeModulesFile ? await loadModulesFile(config.probeModulesFile) : DEFAULT_MODULES;
  for (const m of probeModules.values()) if (m.prober === 'unsupported') log.info({ module: m.name }, m.reason);
  let containers: ContainerCache | undefined;
  if (!config.disabledCollectors.includes('containers') && (config.dockerHost || existsSync('/var/run/docker.sock'))) {
    containers = new ContainerCache(new DockerClient(config.dockerHost), {
      labelFilter: config.containerLabel,
      allowedLabels: config.containerLabels,
      log,
    });
    containers.start();
  } else if (!config.disabledCollectors.includes('containers')) {
    log.info('no Docker socket at /var/run/docker.sock and DOCKER_HOST unset: container metrics are off');
  }
  let server: http.Server;
  let ptyServer: http.Server | null = null;
  const goodbye = new Goodbye(config.stopGraceSeconds);
  const pty = config.pty ? await startPty(config, containers, log) : null;
  try {
    const collectors = buildCollectors(
      {
        paths: config.paths,
        filesystemFilter: config.filesystemFilter,
        diskExclude: config.diskExclude,
        vmstatFields: config.vmstatFields,
        netstatFields: config.netstatFields,
        services,
        containers,
        textfileDir: config.textfileDir,
        log,
      },
      config.disabledCollectors,
    );
    const app = createExporterApp({
      collectors,
      collectorTimeoutSeconds: config.collectorTimeoutSeconds,
      token: config.token,
      credentials: start.credentials,
      log,
      goodbye,
      probe: { modules: probeModules, allow: config.probeAllow },
      pty: pty ? { sessions: () => pty.sessions } : undefined,
    });
    if (config.tls) {
      const read = (f: string, what: string) => {
        try {
          return readFileSync(f);
        } catch (e) {
          throw new ConfigError(`invalid configuration:\n  ${what}: cannot read ${f} (${(e as NodeJS.ErrnoException).code})`);
        }
      };
      try {
        server = https.createServer(
          { cert: read(config.tls.certFile, 'VIGIL_TLS_CERT'), key: read(config.tls.keyFile, 'VIGIL_TLS_KEY') },
          app.callback(),
        );
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError(
          `invalid configuration:\n  VIGIL_TLS_CERT, VIGIL_TLS_KEY: not a usable PEM certificate and key (${(e as Error).message})`,
        );
      }
    } else server = http.createServer(app.callback());
    server.keepAliveTimeout = 65_000;
    if (pty && config.pty?.listen) {
      // Its own listener: a firewall can let only the console reach it.
      ptyServer = http.createServer((_req, res) => {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"error":{"code":"not_found","message":"this listener serves /pty only"}}');
      });
      ptyServer.on('upgrade', ptyUpgrade(pty));
      await listen(ptyServer, config.pty.listen, 'VIGIL_PTY_LISTEN');
    } else if (pty) server.on('upgrade', ptyUpgrade(pty));
    if (!start.noListen)
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            new Error(
              `cannot listen on ${config.listen.host}:${config.listen.port}: ${err.code ?? err.message}; set VIGIL_EXPORTER_LISTEN to a free address`,
              { cause: err },
            ),
          ),
        );
        server.listen(config.listen.port, config.listen.host, resolve);
      });
  } catch (err) {
    containers?.stop();
    pty?.close();
    ptyServer?.close();
    throw err;
  }
  const addr = server.address() as AddressInfo | null;
  const host = addr ? (addr.family === 'IPv6' ? `[${addr.address}]` : addr.address) : '';
  const handler = server.listeners('request')[0] as http.RequestListener;
  return {
    url: addr ? `${config.tls ? 'https' : 'http'}://${host}:${addr.port}` : 'connect-out:',
    handler,
    setExporterId: (id) => pty?.setAudience(id),
    ptyHttp: pty ? (ptyServer ?? server) : null,
    ptyUrl: ptyServer ? urlOf(ptyServer, 'http') : undefined,
    drain: () => goodbye.stop(),
    cutDrain: () => goodbye.cut(),
    close: () =>
      new Promise<void>((resolve) => {
        containers?.stop();
        pty?.close();
        ptyServer?.close();
        ptyServer?.closeAllConnections();
        if (server.listening) {
          server.close(() => resolve());
          server.closeAllConnections();
        } else resolve();
      }),
  };
}

/** Starts the PTY socket's server: the console's key, the verifier, the process factory (node-pty loaded now, so a broken build fails at start). */
async function startPty(config: ExporterConfig, containers: ContainerCache | undefined, log: Logger): Promise<PtyServer> {
  const p = config.pty!;
  const { importTicketPublicKey, TicketVerifier } = await import('@vigil/core/pty');
  const { PtyServer, processFactory } = await import('./pty.js');
  let key: Awaited<ReturnType<typeof importTicketPublicKey>>;
  try {
    key = await importTicketPublicKey(p.publicKeyPem);
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  VIGIL_CONSOLE_PUBLIC_KEY: ${(e as Error).message}`);
  }
  let ptyModule: typeof import('node-pty');
  try {
    ptyModule = await import('node-pty');
  } catch (e) {
    throw new Error(
      `terminals need node-pty, which did not load (${(e as Error).message.split('\n')[0]}); rebuild it with \`npm rebuild node-pty\` (python3, make and g++ needed), or unset VIGIL_CONSOLE_PUBLIC_KEY`,
    );
  }
  const docker = containers ? { client: containers.client, containers } : null;
  const server = new PtyServer(
    new TicketVerifier(key, p.exporterId),
    p.options,
    processFactory(p.options, async () => ptyModule, docker),
    log,
  );
  log.info(
    { id: p.exporterId, shell: p.options.shell.shell, maxSessions: p.options.maxSessions },
    `terminals on: /pty takes tickets for ${p.exporterId} signed by the console's key`,
  );
  return server;
}

function ptyUpgrade(pty: PtyServer) {
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== pty.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    void pty.handleUpgrade(req, socket, head);
  };
}

function listen(server: http.Server, at: { host: string; port: number }, variable: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(`cannot listen on ${at.host}:${at.port}: ${err.code ?? err.message}; set ${variable} to a free address`, { cause: err }),
      ),
    );
    server.listen(at.port, at.host, resolve);
  });
}

function urlOf(server: http.Server, scheme: string): string {
  const a = server.address() as AddressInfo;
  return `${scheme}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}
