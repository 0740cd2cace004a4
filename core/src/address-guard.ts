/**
 * Addresses Vigil does not dial on an operator's say-so: link-local ranges
 * (169.254.0.0/16, fe80::/10), where cloud metadata services answer with a
 * machine's credentials (169.254.169.254, and AWS's fd00:ec2::254). Whoever may
 * add a target must not be able to make the scraper, or a console's test
 * scrape, fetch those. The check is on the addresses actually dialled, after
 * DNS, so a name pointed there (now or later) is refused too; a setting lists
 * the ones that may be dialled all the same.
 */
import { BlockList, isIP } from 'node:net';
import * as z from 'zod/mini';
import { invalid } from './config.js';

const GUARDED = new BlockList();
GUARDED.addSubnet('169.254.0.0', 16, 'ipv4');
GUARDED.addSubnet('fe80::', 10, 'ipv6');
GUARDED.addAddress('fd00:ec2::254', 'ipv6');

/** An address without brackets or zone, an IPv4-mapped IPv6 address as its IPv4 one, with its family (0: not an address). */
export function normaliseAddress(address: string): [string, 0 | 4 | 6] {
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (/^::ffff:/i.test(a) && isIP(a.slice(7)) === 4) a = a.slice(7);
  return [a, isIP(a) as 0 | 4 | 6];
}

/** Whether `address` (an IP address; a name is not one) is link-local or a cloud metadata address. */
export function isLinkLocalOrMetadata(address: string): boolean {
  const [a, family] = normaliseAddress(address);
  return family !== 0 && GUARDED.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * An address or a CIDR range (`10.0.0.0/8`, `fe80::1`, `[::1]/128`) as
 * BlockList takes it; null for an entry with no address (a host name), and
 * `bad prefix` for an address whose prefix length is out of range.
 */
export function parseAddressRange(entry: string): { address: string; bits: number; type: 'ipv4' | 'ipv6' } | 'bad prefix' | null {
  const slash = entry.indexOf('/');
  const [address, family] = normaliseAddress(slash < 0 ? entry : entry.slice(0, slash));
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  const bits = slash < 0 ? max : Number(entry.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (slash >= 0 && entry.slice(slash + 1).trim() === '')) return 'bad prefix';
  return { address, bits, type: family === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * The addresses and CIDR ranges that may be dialled although guarded
 * (e.g. `169.254.10.0/24`), from a setting's entries.
 * @throws Error naming an entry that is neither an address nor a CIDR range
 */
export function addressAllowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const e = raw.trim();
    if (!e) continue;
    const range = parseAddressRange(e);
    if (range === null || range === 'bad prefix')
      throw new Error(`"${e.slice(0, 60)}" is not an IP address or a CIDR range such as 169.254.10.0/24`);
    list.addSubnet(range.address, range.bits, range.type);
  }
  return list;
}

/** Thrown (as a connection error) for a guarded address; its message says which setting allows it. */
export class AddressRefusedError extends Error {
  override name = 'AddressRefusedError';
  readonly code = 'VIGIL_ADDRESS_REFUSED';
}

/** Whether dialling `address` is allowed: not guarded, or listed in `allowed`. */
export function mayDial(address: string, allowed: BlockList | null): boolean {
  if (!isLinkLocalOrMetadata(address)) return true;
  const [a, family] = normaliseAddress(address);
  return allowed?.check(a, family === 4 ? 'ipv4' : 'ipv6') ?? false;
}

/**
 * `VIGIL_SCRAPE_ALLOW`: the link-local and metadata addresses or CIDR ranges
 * that scrapes may reach all the same (comma-separated; unset: none), checked
 * as addressAllowList reads them. One definition for the scraper and the console.
 */
export const scrapeAllow = z.pipe(
  z.optional(z.string()),
  z.transform((s, ctx): readonly string[] => {
    const entries = (s ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    try {
      addressAllowList(entries);
    } catch (e) {
      return invalid(ctx, (e as Error).message);
    }
    return Object.freeze(entries);
  }),
);
