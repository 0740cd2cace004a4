/**
 * The exporter enrols its host with a console (VIGIL_CONSOLE_URL): it keeps
 * an Ed25519 key pair in its state directory as its identity, signs each
 * request with it, and keeps what the console answered (its target id, name and
 * scrape credential). The enrolment token is sent, never written or logged.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ENROL_PATH,
  ENROL_TYPES,
  type EnrolAnswer,
  EnrolError,
  type HostIdentity,
  type HostMetadata,
  hostIdentityOf,
  newHostIdentity,
  signHostMessage,
  verifyEnrolAnswer,
} from '@vigil/core/enrolment';
import type { Logger } from '@vigil/core/log';
import { importTicketPublicKey } from '@vigil/core/pty';
import type { EnrolConfig } from './config.js';

/** What the exporter keeps of its enrolment (`enrolment.json`, mode 0600). */
export interface EnrolmentState {
  console_url: string;
  target_id: number;
  name: string;
  /** The bearer token its scrapers send it. */
  credential: string;
  pending: boolean;
}

const IDENTITY_FILE = 'identity.json';
const ENROLMENT_FILE = 'enrolment.json';

/** Writes a file readable by its owner only, whole or not at all (a temporary file renamed over it). */
function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * This host's identity from `<stateDir>/identity.json`, made (and kept, mode
 * 0600 in a 0700 directory) on the first start.
 * @throws Error saying which file is unreadable or not a key, and what to do
 */
export async function loadIdentity(stateDir: string): Promise<{ identity: HostIdentity; created: boolean }> {
  const file = path.join(stateDir, IDENTITY_FILE);
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`cannot read ${file} (${(e as NodeJS.ErrnoException).code}); the exporter must own VIGIL_STATE_DIR`);
  }
  if (text !== null) {
    try {
      return { identity: await hostIdentityOf(JSON.parse(text)), created: false };
    } catch (e) {
      throw new Error(
        `${file} is not this host's key (${(e as Error).message}); move it away to make a new identity (the host then enrols anew)`,
      );
    }
  }
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new Error(
      `cannot make VIGIL_STATE_DIR ${stateDir} (${(e as NodeJS.ErrnoException).code}); create it for the exporter's user or set another`,
    );
  }
  const identity = await newHostIdentity();
  writePrivate(file, JSON.stringify(identity.privateJwk));
  return { identity, created: true };
}

/** The enrolment kept in the state directory for this console, or null. */
export function loadEnrolment(stateDir: string, consoleUrl: string): EnrolmentState | null {
  try {
    const s = JSON.parse(readFileSync(path.join(stateDir, ENROLMENT_FILE), 'utf8')) as EnrolmentState;
    return s.console_url === consoleUrl && typeof s.credential === 'string' && typeof s.target_id === 'number' ? s : null;
  } catch {
    return null;
  }
}

/** Keeps the enrolment (mode 0600). */
export function saveEnrolment(stateDir: string, state: EnrolmentState): void {
  writePrivate(path.join(stateDir, ENROLMENT_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * What the exporter says of its host: OS (`PRETTY_NAME` of the host's
 * /etc/os-release), kernel, architecture, CPU model and cores, memory (bytes),
 * hostname, and the provider and region it was told.
 */
export function hostMetadata(cfg: Pick<EnrolConfig, 'provider' | 'region'>, rootfs = '/', version = exporterVersion()): HostMetadata {
  const cpus = os.cpus();
  const m: HostMetadata = {
    hostname: os.hostname().slice(0, 253),
    os: osName(rootfs),
    kernel: os.release().slice(0, 200),
    arch: os.arch(),
    cpu_model: (cpus[0]?.model ?? '').trim().slice(0, 200) || undefined,
    cores: cpus.length,
    memory_bytes: os.totalmem(),
    exporter_version: version,
  };
  if (cfg.provider) m.provider = cfg.provider;
  if (cfg.region) m.region = cfg.region;
  for (const k of Object.keys(m) as (keyof HostMetadata)[]) if (m[k] === undefined) delete m[k];
  return m;
}

/** PRETTY_NAME from `<rootfs>/etc/os-release` (or /usr/lib/os-release), else `linux`. */
function osName(rootfs: string): string {
  for (const f of ['etc/os-release', 'usr/lib/os-release']) {
    try {
      for (const line of readFileSync(path.join(rootfs, f), 'utf8').split('\n')) {
        if (!line.startsWith('PRETTY_NAME=')) continue;
        let v = line.slice('PRETTY_NAME='.length).trim();
        if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) v = v.slice(1, -1);
        return v.slice(0, 200);
      }
    } catch {
      // the next one
    }
  }
  return os.type().toLowerCase();
}

let version: string | undefined;
/** This exporter's version (its package.json's, or the bundle's). */
export function exporterVersion(): string {
  if (version) return version;
  try {
    version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    version = 'unknown';
  }
  return version;
}

/** A refusal the console gave (a 4xx): trying again as is will not help. */
export class EnrolRefusedError extends Error {
  override name = 'EnrolRefusedError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What one enrolment request needs. */
export interface EnrolRequestInput {
  config: EnrolConfig;
  identity: HostIdentity;
  /** The metrics URL it advertises; ignored when it connects out. */
  url: string | undefined;
  metadata: HostMetadata;
  timeoutSeconds?: number;
}

/**
 * Enrols once: a signed request to `<console>/api/v1/enrol`, with the
 * enrolment token in the body when there is one. When the console's public key
 * is pinned, the answer must carry the console's signature addressed to this key.
 * @throws EnrolRefusedError for a refusal (4xx: token refused, name invalid…); Error for a network failure or a 5xx (worth trying again)
 */
export async function enrolOnce(input: EnrolRequestInput): Promise<EnrolAnswer> {
  const { config, identity } = input;
  const jws = await signHostMessage(identity, ENROL_TYPES.enrol, {
    name: config.name,
    ...(config.connect ? {} : { url: input.url }),
    connect: config.connect,
    labels: config.labels,
    metadata: input.metadata,
  });
  const res = await fetch(config.consoleUrl + ENROL_PATH, {
    method: 'POST',
    headers: { authorization: `Bearer ${jws}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(config.token ? { enrolment_token: config.token } : {}),
    signal: AbortSignal.timeout((input.timeoutSeconds ?? 10) * 1000),
    redirect: 'error',
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: said below
  }
  if (res.status >= 400 && res.status < 500) {
    const err = (body.error ?? {}) as { code?: string; message?: string };
    throw new EnrolRefusedError(res.status, err.code ?? 'refused', err.message ?? `the console answered ${res.status}`);
  }
  if (!res.ok) throw new Error(`the console answered ${res.status}`);
  if (typeof body.target_id !== 'number' || typeof body.credential !== 'string')
    throw new Error(`the console's answer is not an enrolment (is ${config.consoleUrl} a Vigil console?)`);
  if (config.consolePublicKeyPem) {
    if (typeof body.signed !== 'string')
      throw new EnrolRefusedError(
        0,
        'unsigned',
        "the console's answer is not signed, while VIGIL_CONSOLE_PUBLIC_KEY is pinned; is this the console whose key you pinned (it needs VIGIL_CONSOLE_PRIVATE_KEY)?",
      );
    try {
      return await verifyEnrolAnswer(await importTicketPublicKey(config.consolePublicKeyPem), identity.thumbprint, body.signed);
    } catch (e) {
      if (e instanceof EnrolError) throw new EnrolRefusedError(0, 'signature', e.message);
      throw e;
    }
  }
  return body as unknown as EnrolAnswer;
}

/** Backoff with full jitter: a delay in [base/2, base) where base doubles from `first` up to `max` (seconds). */
export function backoffSeconds(attempt: number, first = 1, max = 60, random = Math.random): number {
  const base = Math.min(max, first * 2 ** Math.min(attempt, 20));
  return base / 2 + (random() * base) / 2;
}

/**
 * Enrols, trying again with backoff and jitter while the console cannot be
 * reached or answers 5xx; a refusal ends it. Each outcome is logged without the
 * token or the credential.
 * @throws EnrolRefusedError at once for a refusal; the abort reason when `signal` aborts
 */
export async function enrolWithRetry(input: EnrolRequestInput, log: Logger, signal?: AbortSignal): Promise<EnrolAnswer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await enrolOnce(input);
    } catch (e) {
      if (e instanceof EnrolRefusedError) throw e;
      const wait = backoffSeconds(attempt);
      log.warn(
        { console: input.config.consoleUrl, err: (e as Error).message, retryInSeconds: Math.round(wait * 10) / 10 },
        'cannot enrol yet; trying again',
      );
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, wait * 1000);
        signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    }
  }
}

/**
 * `vigil-exporter deregister`: asks the console to remove this host (a
 * request signed with its key), then forgets the enrolment (the key stays).
 * @throws EnrolRefusedError (404: no host has this key), Error (network)
 */
export async function deregisterHost(config: EnrolConfig): Promise<void> {
  const { identity } = await loadIdentity(config.stateDir);
  const jws = await signHostMessage(identity, ENROL_TYPES.deregister, {});
  const res = await fetch(config.consoleUrl + ENROL_PATH, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${jws}` },
    signal: AbortSignal.timeout(10_000),
    redirect: 'error',
  });
  if (res.status >= 400) {
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    throw new EnrolRefusedError(res.status, body.error?.code ?? 'refused', body.error?.message ?? `the console answered ${res.status}`);
  }
  rmSync(path.join(config.stateDir, ENROLMENT_FILE), { force: true });
}
