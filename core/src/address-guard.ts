/**
 * Addresses Vigil does not dial on an operator's say-so: link-local ranges
 * (169.254.0.0/16, fe80::/10), where cloud metadata services answer with a
 * machine's credentials (169.254.169.254, and AWS's fd00:ec2::254). Whoever may
 * add a target must not be able to make the scraper, or a console's test
 * scrape, fetch those. The check is on the addresses actually dialled, after
 * DNS, so a name pointed there (now or later) is refused too; a setting lists
 * the ones that may be dialled all the same.
 */
import dns from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';

const GUARDED = new BlockList();
GUARDED.addSubnet('169.254.0.0', 16, 'ipv4');
GUARDED.addSubnet('fe80::', 10, 'ipv6');
GUARDED.addAddress('fd00:ec2::254', 'ipv6');

/** An address without brackets, an IPv4-mapped IPv6 address as its IPv4 one, with its family (0: not an address). */
function normalise(address: string): [string, 0 | 4 | 6] {
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (/^::ffff:/i.test(a) && isIP(a.slice(7)) === 4) a = a.slice(7);
  return [a, isIP(a) as 0 | 4 | 6];
}

/** Whether `address` (an IP address; a name is not one) is link-local or a cloud metadata address. */
export function isLinkLocalOrMetadata(address: string): boolean {
  const [a, family] = normalise(address);
  return family !== 0 && GUARDED.check(a, family === 4 ? 'ipv4' : 'ipv6');
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
    const slash = e.indexOf('/');
    const [addr, family] = normalise(slash < 0 ? e : e.slice(0, slash));
    const bits = slash < 0 ? (family === 4 ? 32 : 128) : Number(e.slice(slash + 1));
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128))
      throw new Error(`"${e.slice(0, 60)}" is not an IP address or a CIDR range such as 169.254.10.0/24`);
    list.addSubnet(addr, bits, family === 4 ? 'ipv4' : 'ipv6');
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
  const [a, family] = normalise(address);
  return allowed?.check(a, family === 4 ? 'ipv4' : 'ipv6') ?? false;
}

function refusal(host: string, address: string, setting: string): AddressRefusedError {
  const shown = host === address ? address : `${host} (${address})`;
  return new AddressRefusedError(
    `${shown} is a link-local or cloud metadata address, which is not scraped; list it in ${setting} (an address or a CIDR range) to allow it`,
  );
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * undici's connector (`new Agent({ connect })`) refusing guarded addresses
 * unless `allowed` lists them: an address in the URL is checked before
 * dialling, a name after DNS (every address it resolves to that would be dialled).
 * @param setting the variable that lists allowed addresses, named in the refusal
 */
export function guardedConnector(allowed: BlockList | null, setting: string): buildConnector.connector {
  const lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options }, (err, address, family) => {
      if (err) return callback(err, '');
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const bad = addresses.find((a) => !mayDial(a, allowed));
      if (bad !== undefined) return callback(refusal(hostname, bad, setting), '');
      callback(null, address as never, family);
    });
  };
  const base = buildConnector({ lookup } as never);
  return (opts, callback) => {
    const [literal, family] = normalise(opts.hostname);
    if (family !== 0 && !mayDial(literal, allowed)) {
      callback(refusal(literal, literal, setting), null);
      return;
    }
    base(opts, callback);
  };
}
