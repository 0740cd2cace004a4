import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { scrapeAllow } from '@vigil/core/address-guard';
import {
  ConfigError,
  integer,
  listenAddress,
  logLevel,
  parseEnv,
  readSecretFiles,
  seconds,
  tokenFileSchema,
  tokenSchema,
} from '@vigil/core/config';
import { isRole, ROLES, type Role } from '@vigil/core/states';
import { EXPORTER_TOKEN_FILE_DOC, LOG_LEVEL_DOC, type VariableDocs, variablesHelp } from '@vigil/core/variables';
import { DATABASE_URL } from '@vigil/db';
import * as z from 'zod/mini';

const schema = z.object({
  VIGIL_CONSOLE_LISTEN: listenAddress('127.0.0.1:3000'),
  VIGIL_CONSOLE_ORIGIN: z.optional(z.string()),
  VIGIL_CONSOLE_PROXY_HOPS: integer(0, { min: 0, max: 10 }),
  VIGIL_SESSION_MAX_AGE: seconds(7 * 86_400, { min: 60, max: 366 * 86_400 }),
  VIGIL_SESSION_IDLE: seconds(12 * 3_600, { min: 60, max: 366 * 86_400 }),
  VIGIL_LOG_LEVEL: logLevel,
  VIGIL_EXPORTER_TOKEN: tokenSchema,
  VIGIL_EXPORTER_TOKEN_FILE: tokenFileSchema,
  VIGIL_ADMIN_PASSWORD: z.optional(z.string()),
  VIGIL_ADMIN_PASSWORD_FILE: z.optional(z.string()),
  VIGIL_CONSOLE_PRIVATE_KEY: z.optional(z.string()),
  VIGIL_TERMINAL_GRACE: seconds(60, { min: 0, max: 3600 }),
  VIGIL_TERMINAL_RECORD_DIR: z.optional(z.string().check(z.minLength(1))),
  VIGIL_SCRAPE_ALLOW: scrapeAllow,
  VIGIL_SCRAPER_MEMBER_TIMEOUT: integer(10, { min: 2, max: 3600 }),
  VIGIL_OIDC_ISSUER: z.optional(
    z.url({ protocol: /^https?$/, error: "expected the provider's issuer URL, e.g. https://auth.example.com/application/o/vigil/" }),
  ),
  VIGIL_OIDC_CLIENT_ID: z.optional(z.string().check(z.minLength(1))),
  VIGIL_OIDC_CLIENT_SECRET: z.optional(z.string()),
  VIGIL_OIDC_CLIENT_SECRET_FILE: z.optional(z.string()),
  VIGIL_OIDC_NAME: z._default(z.string().check(z.minLength(1), z.maxLength(40)), 'single sign-on'),
  VIGIL_OIDC_SCOPES: z._default(z.string().check(z.minLength(1)), 'openid profile email'),
  VIGIL_OIDC_ROLE_CLAIM: z._default(z.string().check(z.minLength(1)), 'groups'),
  VIGIL_OIDC_ROLES: z._default(z.string(), ''),
  VIGIL_CONSOLE_INTERNAL_URL: z.optional(z.url({ protocol: /^https?$/ })),
  DATABASE_URL,
});

/** The console's variables, each described once: its --help and the README's table are made from this. */
export const CONSOLE_VARIABLE_DOCS: VariableDocs<typeof schema> = {
  VIGIL_CONSOLE_LISTEN: { default: '127.0.0.1:3000', meaning: 'address to listen on' },
  VIGIL_CONSOLE_ORIGIN: {
    defaultText: 'http://localhost:<port>',
    meaning:
      'the URL browsers use; requests naming another host, and writes from another origin, are refused; https://… makes the session cookie Secure and adds HSTS',
  },
  VIGIL_CONSOLE_INTERNAL_URL: {
    defaultText: 'http://127.0.0.1:<port>',
    meaning:
      'the URL scrapers reach this console at: hosts that connect out are scraped through it (<url>/api/v1/connect/<id>/metrics); e.g. http://console:3000 in compose',
  },
  VIGIL_CONSOLE_PROXY_HOPS: {
    default: '0',
    meaning:
      "reverse proxies in front that append to X-Forwarded-For (0: the peer's address is the client's; the header is never trusted unasked)",
  },
  VIGIL_SESSION_MAX_AGE: { default: '7d', meaning: "a session's lifetime from sign-in" },
  VIGIL_SESSION_IDLE: { default: '12h', meaning: 'a session ends after this long without a request' },
  VIGIL_LOG_LEVEL: LOG_LEVEL_DOC,
  VIGIL_EXPORTER_TOKEN: { meaning: "the bearer token a test scrape sends to a target without its own (the scraper's; 16+ characters)" },
  VIGIL_EXPORTER_TOKEN_FILE: EXPORTER_TOKEN_FILE_DOC,
  VIGIL_ADMIN_PASSWORD: {
    meaning: 'on the first start (no user yet), the password of the user "admin" it makes; unset: a generated one, printed once in the log',
  },
  VIGIL_ADMIN_PASSWORD_FILE: { meaning: 'a file holding that password instead (a compose secret)' },
  VIGIL_CONSOLE_PRIVATE_KEY: {
    meaning:
      'Ed25519 private key (PKCS#8 PEM, or a file holding it) that signs terminal tickets; the exporters get its public key as VIGIL_CONSOLE_PUBLIC_KEY (`vigil keys` makes a pair); unset: terminals are off',
  },
  VIGIL_TERMINAL_GRACE: { default: '60s', meaning: 'how long a terminal whose browser dropped waits to be re-attached' },
  VIGIL_TERMINAL_RECORD_DIR: {
    meaning:
      "record every terminal's output as asciicast v2 in this directory (made 0700), replayable by admins at /admin/terminals; keystrokes are never recorded",
  },
  VIGIL_SCRAPE_ALLOW: {
    meaning:
      'link-local and cloud metadata addresses that test scrapes may reach all the same, as the scraper reads it (comma-separated addresses or CIDR ranges); unset: none',
  },
  VIGIL_SCRAPER_MEMBER_TIMEOUT: {
    default: '10',
    meaning:
      'seconds a scraper replica may go unseen before it counts as gone, as the scrapers read it (a console with none live says so on every page)',
  },
  VIGIL_OIDC_ISSUER: {
    meaning:
      "sign-in through this OpenID Connect provider (Authentik, Keycloak, Authelia, Google…) besides local accounts: its issuer URL (https; http only on a loopback address); the console's redirect URI there is <origin>/login/oidc/callback",
  },
  VIGIL_OIDC_CLIENT_ID: { meaning: 'the client id the provider gave the console (needed with VIGIL_OIDC_ISSUER)' },
  VIGIL_OIDC_CLIENT_SECRET: { meaning: 'its client secret (unset: a public client, PKCE only)' },
  VIGIL_OIDC_CLIENT_SECRET_FILE: { meaning: 'a file holding that secret instead (a compose secret)' },
  VIGIL_OIDC_NAME: { default: 'single sign-on', meaning: 'the provider\'s name on the sign-in button ("Sign in with …")' },
  VIGIL_OIDC_SCOPES: {
    default: 'openid profile email',
    meaning: 'the scopes asked for; add the one that carries groups where the provider needs it (Keycloak: a mapper; Authelia: groups)',
  },
  VIGIL_OIDC_ROLE_CLAIM: { default: 'groups', meaning: 'the claim (of the ID token, else of userinfo) whose values map to roles' },
  VIGIL_OIDC_ROLES: {
    meaning:
      'which values of that claim give which role, highest first wins: `vigil-admins=admin,homelab=viewer`; `*=viewer` gives anyone the provider signs in a role; unset: nobody signs in through the provider (said so on the sign-in page)',
  },
  DATABASE_URL: { meaning: 'postgres://…, or unset for the embedded database a running `vigil start` serves' },
};

/** The console's configuration schema (for checking its descriptions). */
export const CONSOLE_SCHEMA = schema;

/** `vigil-console --help`. */
export const CONSOLE_HELP = `vigil-console — the web console

Usage: vigil-console [--help | --check-config]

Environment:
${variablesHelp(CONSOLE_VARIABLE_DOCS)}`;

/** The console's configuration, parsed once from the environment and frozen. */
export interface ConsoleConfig {
  listen: { host: string; port: number };
  /** The origin browsers use, e.g. `https://vigil.example.com`; requests for another Host are refused. */
  origin: URL;
  /**
   * Reverse proxies in front of the console that append to X-Forwarded-For
   * (0: none, the peer's address is the client's). Never assumed: a header
   * nobody vouches for is the client's own word.
   */
  proxyHops: number;
  /** Session limits, seconds: from sign-in, and since the last request. */
  session: { maxAgeSeconds: number; idleSeconds: number };
  logLevel: string;
  /** The token test scrapes send to a target without its own (the scraper's VIGIL_EXPORTER_TOKEN). */
  exporterToken: string | undefined;
  /** Guarded (link-local, metadata) addresses test scrapes may reach all the same (VIGIL_SCRAPE_ALLOW). */
  scrapeAllow: readonly string[];
  databaseUrl: string | undefined;
  /** The first admin's password on a fresh install (VIGIL_ADMIN_PASSWORD); undefined: generated. */
  adminPassword: string | undefined;
  /** The Ed25519 private key (PKCS#8 PEM) that signs terminal tickets; null: terminals are off. */
  terminalKeyPem: string | null;
  /** How long a terminal waits for its browser to come back, seconds. */
  terminalGraceSeconds: number;
  /** Where terminal sessions are recorded (asciicast v2); null: not recorded. */
  terminalRecordDir: string | null;
  /** Seconds a scraper replica may go unseen before it counts as gone. */
  scraperTimeoutSeconds: number;
  /** Sign-in through an OpenID Connect provider; null: off. */
  oidc: OidcConfig | null;
  /** The URL scrapers reach this console at (no trailing slash): hosts that connect out are scraped through it. */
  internalUrl: string;
}

/** An OpenID Connect provider to sign in through (VIGIL_OIDC_*). */
export interface OidcConfig {
  issuer: URL;
  clientId: string;
  clientSecret: string | undefined;
  name: string;
  scopes: string;
  roleClaim: string;
  /** [claim value (`*`: any), role], in the order given. */
  roles: readonly (readonly [string, Role])[];
}

/**
 * Reads the console's environment: `VIGIL_CONSOLE_LISTEN` (default
 * 127.0.0.1:3000), `VIGIL_CONSOLE_ORIGIN` (default `http://localhost:<port>`),
 * `VIGIL_CONSOLE_PROXY_HOPS` (default 0), `VIGIL_SESSION_MAX_AGE` (default 7
 * days), `VIGIL_SESSION_IDLE` (default 12 hours), `VIGIL_LOG_LEVEL`,
 * `VIGIL_EXPORTER_TOKEN` (for test scrapes), `DATABASE_URL`.
 * @throws ConfigError naming each bad variable and what it expects
 */
export function loadConsoleConfig(env: Record<string, string | undefined> = process.env): ConsoleConfig {
  const e = parseEnv(schema, readSecretFiles(env, ['VIGIL_EXPORTER_TOKEN', 'VIGIL_ADMIN_PASSWORD', 'VIGIL_OIDC_CLIENT_SECRET']));
  let origin: URL;
  try {
    origin = new URL(e.VIGIL_CONSOLE_ORIGIN ?? `http://localhost:${e.VIGIL_CONSOLE_LISTEN.port}`);
    if (origin.protocol !== 'http:' && origin.protocol !== 'https:') throw new Error('not http');
  } catch {
    return parseEnv(
      z.object({ VIGIL_CONSOLE_ORIGIN: z.string().check(z.regex(/^$/, 'expected the URL browsers use, e.g. https://vigil.example.com')) }),
      env,
    ) as never;
  }
  return Object.freeze({
    listen: e.VIGIL_CONSOLE_LISTEN,
    origin: new URL(origin.origin),
    proxyHops: e.VIGIL_CONSOLE_PROXY_HOPS,
    session: Object.freeze({ maxAgeSeconds: e.VIGIL_SESSION_MAX_AGE, idleSeconds: e.VIGIL_SESSION_IDLE }),
    logLevel: e.VIGIL_LOG_LEVEL,
    exporterToken: e.VIGIL_EXPORTER_TOKEN,
    scrapeAllow: e.VIGIL_SCRAPE_ALLOW,
    databaseUrl: e.DATABASE_URL,
    adminPassword: e.VIGIL_ADMIN_PASSWORD,
    terminalKeyPem: privateKeyPem(e.VIGIL_CONSOLE_PRIVATE_KEY),
    terminalGraceSeconds: e.VIGIL_TERMINAL_GRACE,
    terminalRecordDir: recordDir(e.VIGIL_TERMINAL_RECORD_DIR),
    scraperTimeoutSeconds: e.VIGIL_SCRAPER_MEMBER_TIMEOUT,
    oidc: oidcConfig(e),
    internalUrl: (e.VIGIL_CONSOLE_INTERNAL_URL ?? `http://127.0.0.1:${e.VIGIL_CONSOLE_LISTEN.port}`).replace(/\/+$/, ''),
  });
}

/** VIGIL_OIDC_*: null without an issuer. @throws ConfigError for an issuer without a client id, a plain-http issuer off loopback, or a bad role mapping */
function oidcConfig(e: z.infer<typeof schema>): OidcConfig | null {
  if (!e.VIGIL_OIDC_ISSUER) return null;
  const bad = (m: string) => new ConfigError(`invalid configuration:\n  ${m}`);
  const issuer = new URL(e.VIGIL_OIDC_ISSUER);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
  if (issuer.protocol === 'http:' && !loopback)
    throw bad(
      'VIGIL_OIDC_ISSUER: expected an https:// issuer (tokens over plain http could be read on the way); http is allowed on a loopback address only',
    );
  if (!e.VIGIL_OIDC_CLIENT_ID)
    throw bad('VIGIL_OIDC_CLIENT_ID: expected the client id the provider gave the console (VIGIL_OIDC_ISSUER is set)');
  const roles: [string, Role][] = [];
  for (const part of e.VIGIL_OIDC_ROLES.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.lastIndexOf('=');
    const value = p.slice(0, eq).trim();
    const role = p.slice(eq + 1).trim();
    if (eq < 1 || !value || !isRole(role))
      throw bad(
        `VIGIL_OIDC_ROLES: expected value=role pairs separated by commas, role one of ${ROLES.join(', ')}; got ${JSON.stringify(p.slice(0, 60))}`,
      );
    roles.push([value, role]);
  }
  return {
    issuer,
    clientId: e.VIGIL_OIDC_CLIENT_ID,
    clientSecret: e.VIGIL_OIDC_CLIENT_SECRET || undefined,
    name: e.VIGIL_OIDC_NAME,
    scopes: e.VIGIL_OIDC_SCOPES,
    roleClaim: e.VIGIL_OIDC_ROLE_CLAIM,
    roles,
  };
}

let config: ConsoleConfig | null = null;

/** The console's configuration, read on first use. @throws ConfigError */
export function consoleConfig(): ConsoleConfig {
  config ??= loadConsoleConfig();
  return config;
}

/**
 * Whether a request's Host header may be served: the configured origin's host,
 * or an IP address literal (which no DNS rebinding can point at us under
 * another name). A page on evil.example whose name was re-pointed at 127.0.0.1
 * arrives with `Host: evil.example:3000` and is refused.
 */
export function hostAllowed(host: string | null, origin: URL): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  if (h === origin.host) return true;
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.slice(0, h.lastIndexOf(':') < 0 ? h.length : h.lastIndexOf(':'));
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || (h.startsWith('[') && name.includes(':'));
}

/** VIGIL_CONSOLE_PRIVATE_KEY: PEM text, or a file holding it. @throws ConfigError when unreadable or not a private key */
function privateKeyPem(value: string | undefined): string | null {
  const v = value?.trim();
  if (!v) return null;
  let pem = v;
  if (!v.includes('-----BEGIN')) {
    try {
      pem = readFileSync(v, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `invalid configuration:\n  VIGIL_CONSOLE_PRIVATE_KEY: expected the terminal signing key (PEM text, or a file holding it); cannot read ${v} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  if (!pem.includes('-----BEGIN PRIVATE KEY-----'))
    throw new ConfigError(
      'invalid configuration:\n  VIGIL_CONSOLE_PRIVATE_KEY: expected an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----), as `vigil keys` writes it',
    );
  return pem;
}

/** VIGIL_TERMINAL_RECORD_DIR: made when missing (0700). @throws ConfigError when it cannot be */
function recordDir(value: string | undefined): string | null {
  if (!value) return null;
  try {
    mkdirSync(value, { recursive: true, mode: 0o700 });
    accessSync(value, constants.W_OK);
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  VIGIL_TERMINAL_RECORD_DIR: cannot write recordings in ${value} (${(err as NodeJS.ErrnoException).code}); name a directory the console may write`,
    );
  }
  return path.resolve(value);
}
