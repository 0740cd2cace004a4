import path from 'node:path';
import type { Collector, HostPaths } from '../collector.js';
import { ParseError, readOptional, readText } from './read.js';

/** node_exporter's default `--collector.netstat.fields`: errors, forwarding, octets, ICMP, listen/syncookie/retransmit TCP, UDP. */
export const DEFAULT_NETSTAT_FIELDS =
  /^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$/;

/**
 * Parses /proc/net/netstat or /proc/net/snmp: pairs of lines, `Proto: Name …`
 * then `Proto: value …`.
 * @returns `Proto_Name` → value, in file order
 * @throws ParseError when a values line does not match its header
 */
export function parseNetstatPairs(text: string, file: string): [string, number][] {
  const out: [string, number][] = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = 0; i < lines.length; i += 2) {
    const names = lines[i]!.trim().split(/\s+/);
    const values = (lines[i + 1] ?? '').trim().split(/\s+/);
    const proto = names[0]!;
    if (!proto.endsWith(':') || values[0] !== proto || values.length !== names.length || values.slice(1).some((v) => !/^-?\d+$/.test(v)))
      throw new ParseError(
        file,
        i + 2,
        `expected the values of "${proto.slice(0, 20)}", got ${JSON.stringify((lines[i + 1] ?? '').slice(0, 60))}`,
      );
    for (let k = 1; k < names.length; k++) out.push([`${proto.slice(0, -1)}_${names[k]}`, Number(values[k])]);
  }
  return out;
}

/**
 * Parses /proc/net/snmp6: `Ip6InReceives 81` per line, the protocol ending at the first "6".
 * @throws ParseError for a line that is not a name with a 6 and a whole number
 */
export function parseSnmp6(text: string): [string, number][] {
  const out: [string, number][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length === 1 && f[0] === '') continue;
    const six = f[0]!.indexOf('6');
    if (f.length !== 2 || six < 1 || !/^-?\d+$/.test(f[1]!))
      throw new ParseError('net/snmp6', i + 1, `expected "Proto6Name count", got ${JSON.stringify(lines[i]!.slice(0, 60))}`);
    out.push([`${f[0]!.slice(0, six + 1)}_${f[0]!.slice(six + 1)}`, Number(f[1])]);
  }
  return out;
}

/**
 * node_exporter's netstat collector: `node_netstat_<Proto>_<Name>` (untyped,
 * "Statistic <Proto><Name>.") from /proc/net/netstat, /proc/net/snmp and
 * /proc/net/snmp6 (left out on a kernel without IPv6), for the fields that
 * `fields` matches (default node_exporter's: TCP retransmits and resets, listen
 * overflows, syncookies, UDP buffer errors, …).
 */
export function netstatCollector(paths: HostPaths, fields: RegExp = DEFAULT_NETSTAT_FIELDS): Collector {
  return {
    name: 'netstat',
    async update(sink, signal) {
      const put = (pairs: [string, number][]) => {
        for (let i = 0; i < pairs.length; i++) {
          const key = pairs[i]![0];
          if (fields.test(key)) sink.untyped(`node_netstat_${key}`, `Statistic ${key.replace('_', '')}.`).set({}, pairs[i]![1]);
        }
      };
      put(parseNetstatPairs(await readText(path.join(paths.proc, 'net/netstat'), signal, 'memory'), 'net/netstat'));
      put(parseNetstatPairs(await readText(path.join(paths.proc, 'net/snmp'), signal, 'memory'), 'net/snmp'));
      const snmp6 = await readOptional(path.join(paths.proc, 'net/snmp6'), signal);
      if (snmp6 !== null) put(parseSnmp6(snmp6));
    },
  };
}
