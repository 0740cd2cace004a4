import { BlockList } from 'node:net';
import { isLinkLocalOrMetadata, normaliseAddress, parseAddressRange } from '@vigil/core/address-guard';

/**
 * Which targets `/probe` may reach: without it, anyone who may scrape the
 * exporter could make it fetch any address its host can reach (an open proxy
 * into the host's network). Entries, comma-separated in VIGIL_PROBE_ALLOW:
 * - a host name, matched exactly (`nas.lan`), or a domain's hosts (`*.lan`);
 * - an IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`), matched against
 *   the address actually connected to, after DNS (so a name cannot be made to
 *   point inside the range later: the check is on what is dialled).
 * Every hop of a redirect is checked again.
 */
export class ProbeAllowList {
  readonly #names = new Set<string>();
  readonly #domains: string[] = [];
  readonly #addresses = new BlockList();
  #hasAddresses = false;
  readonly entries: readonly string[];

  /** @throws Error naming an entry that is neither a host name, a domain pattern, an address nor a CIDR range */
  constructor(spec: string) {
    this.entries = spec
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    for (const e of this.entries) {
      const range = parseAddressRange(e);
      if (range === 'bad prefix') throw new Error(`"${e}": bad prefix length`);
      if (range) {
        this.#addresses.addSubnet(range.address, range.bits, range.type);
        this.#hasAddresses = true;
      } else if (e.startsWith('*.') && isHostName(e.slice(2))) this.#domains.push(e.slice(1));
      else if (isHostName(e)) this.#names.add(e);
      else throw new Error(`"${e}": expected a host name, *.domain, an IP address or a CIDR range such as 10.0.0.0/8`);
    }
  }

  /** Whether the host name (as written in the target, before DNS) is allowed by name. */
  allowsName(host: string): boolean {
    const h = host.toLowerCase();
    return this.#names.has(h) || this.#domains.some((d) => h.endsWith(d) && h.length > d.length);
  }

  /**
   * Whether dialling `address` for `host` is allowed: by the host's name, or by
   * the address's range. A link-local or cloud metadata address (169.254.0.0/16,
   * fe80::/10, fd00:ec2::254) only by its range: a name allowed (`*.lan`) that
   * resolves there is refused.
   */
  allows(host: string, address: string): boolean {
    if (isLinkLocalOrMetadata(address)) return this.#hasAddresses && this.#inRanges(address);
    if (this.allowsName(host)) return true;
    return this.#hasAddresses && this.#inRanges(address);
  }

  #inRanges(address: string): boolean {
    const [a, family] = normaliseAddress(address);
    return family !== 0 && this.#addresses.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Why dialling `address` for `host` was refused, naming the setting that would allow it. */
export function probeRefusal(host: string, address: string): string {
  return isLinkLocalOrMetadata(address)
    ? `${host} (${address}) is a link-local or cloud metadata address; list it in VIGIL_PROBE_ALLOW as an address or a CIDR range to probe it`
    : `${host} (${address}) is not in VIGIL_PROBE_ALLOW`;
}

function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s.split('.').every((label) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label));
}
