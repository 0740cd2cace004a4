import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

/** A self-signed certificate written into a test's directory. */
export interface TestCertificate {
  keyFile: string;
  certFile: string;
  key: Buffer;
  cert: Buffer;
  /** When it expires, Unix seconds. */
  notAfter: number;
}

/**
 * Makes a self-signed P-256 certificate with openssl (`key.pem`, `cert.pem` in
 * `dir`) for HTTPS servers in tests.
 * @param subject e.g. `/CN=localhost`
 * @param altNames DNS names (or IP addresses) for subjectAltName, none by default
 */
export function selfSignedCert(dir: string, subject: string, opts: { days?: number; altNames?: readonly string[] } = {}): TestCertificate {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const san = opts.altNames?.length
    ? ['-addext', `subjectAltName=${opts.altNames.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`]
    : [];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      String(opts.days ?? 30),
      '-subj',
      subject,
      ...san,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(certFile);
  return { keyFile, certFile, key: readFileSync(keyFile), cert, notAfter: Date.parse(new X509Certificate(cert).validTo) / 1000 };
}
