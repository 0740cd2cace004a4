import dns from 'node:dns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addressAllowList, isLinkLocalOrMetadata, mayDial } from './address-guard.js';
import { scrapeTarget } from './scrape.js';
import { httpServer } from './testing/servers.js';

// No test here dials a guarded address: refusals happen before any connection,
// and what an allow-list lets through is checked with mayDial alone.
const options = { timeoutSeconds: 2, bodyLimitBytes: 1_000_000 };

describe('guarded addresses', () => {
  it.each([
    ['169.254.169.254', true],
    ['169.254.0.1', true],
    ['169.255.0.1', false],
    ['fe80::1', true],
    ['[fe80::1]', true],
    ['fe80::1%eth0', true],
    ['febf::1', true],
    ['fec0::1', false],
    ['fd00:ec2::254', true],
    ['fd00:ec2::253', false],
    ['::ffff:169.254.169.254', true],
    ['127.0.0.1', false],
    ['10.0.0.5', false],
    ['metadata.google.internal', false],
  ])('%s is guarded: %s', (address, guarded) => {
    expect(isLinkLocalOrMetadata(address)).toBe(guarded);
  });

  it('lets through what the allow-list names, and nothing else guarded', () => {
    const allowed = addressAllowList(['169.254.10.0/24', 'fe80::1']);
    expect(mayDial('169.254.10.7', allowed)).toBe(true);
    expect(mayDial('169.254.169.254', allowed)).toBe(false);
    expect(mayDial('fe80::1', allowed)).toBe(true);
    expect(mayDial('fe80::2', allowed)).toBe(false);
    expect(mayDial('10.0.0.5', null)).toBe(true);
    expect(() => addressAllowList(['metadata'])).toThrow(/"metadata" is not an IP address or a CIDR range/);
    expect(() => addressAllowList(['169.254.0.0/33'])).toThrow(/not an IP address or a CIDR range/);
    expect(() => addressAllowList(['169.254.0.0/'])).toThrow(/not an IP address or a CIDR range/);
  });
});

describe('a scrape of a guarded address', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]:9110/metrics', 'http://[fd00:ec2::254]/latest/meta-data/'])(
    'is refused before dialling %s, naming the setting that allows it',
    async (url) => {
      const r = await scrapeTarget(url, options);
      expect(r).toMatchObject({ up: false, error: expect.stringMatching(/link-local or cloud metadata address.*VIGIL_SCRAPE_ALLOW/) });
    },
  );

  it('is refused after DNS: a name that resolves there is not dialled', async () => {
    const real = dns.lookup;
    vi.spyOn(dns, 'lookup').mockImplementation(((host: string, opts: unknown, cb: (...a: unknown[]) => void) => {
      if (host === 'metadata.example') {
        const all = (opts as { all?: boolean }).all;
        return all ? cb(null, [{ address: '169.254.169.254', family: 4 }]) : cb(null, '169.254.169.254', 4);
      }
      return (real as (...a: unknown[]) => void)(host, opts, cb);
    }) as never);
    const r = await scrapeTarget('http://metadata.example/latest/meta-data/', options);
    expect(r).toMatchObject({
      up: false,
      error:
        'metadata.example (169.254.169.254) is a link-local or cloud metadata address, which is not scraped; list it in VIGIL_SCRAPE_ALLOW (an address or a CIDR range) to allow it',
    });
  });

  it('leaves other addresses alone', async () => {
    const server = await httpServer((_, res) => res.end('up 1\n'));
    try {
      expect(await scrapeTarget(server.url, options)).toMatchObject({ up: true });
      expect(await scrapeTarget(server.url, { ...options, allowAddresses: ['169.254.10.0/24'] })).toMatchObject({ up: true });
    } finally {
      await server.close();
    }
  });
});
