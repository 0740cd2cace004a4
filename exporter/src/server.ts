import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@vigil/core/config';
import type { Logger } from '@vigil/core/log';
import { createExporterApp } from './app.js';
import { buildCollectors } from './collectors/index.js';
import { loadServicesFile } from './collectors/services.js';
import type { ExporterConfig } from './config.js';
import { ContainerCache, DockerClient } from './docker.js';
import { Goodbye } from './goodbye.js';
import { DEFAULT_MODULES, loadModulesFile } from './probe/modules.js';

/** A running exporter. */
export interface RunningExporter {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /**
   * Begins a clean shutdown: every request is answered goodbye (503,
   * `{"status":"stopping"}`) until each Vigil scraper seen recently has heard it
   * or the grace period (`VIGIL_EXPORTER_STOP_GRACE`) is over.
   */
  drain(): Promise<{ expected: number; told: number }>;
  /** Ends a drain in progress now. */
  cutDrain(): void;
  close(): Promise<void>;
}

/**
 * Builds the enabled collectors and serves the exporter on `config.listen`.
 * @throws the listen error (EADDRINUSE, EACCES) with the address in the message
 */
export async function startExporter(config: ExporterConfig, log: Logger): Promise<RunningExporter> {
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
  const goodbye = new Goodbye(config.stopGraceSeconds);
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
      log,
      goodbye,
      probe: { modules: probeModules, allow: config.probeAllow },
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
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `${config.tls ? 'https' : 'http'}://${host}:${addr.port}`,
    drain: () => goodbye.stop(),
    cutDrain: () => goodbye.cut(),
    close: () =>
      new Promise<void>((resolve) => {
        containers?.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
