/**
 * Protocol filters: RxJS operators (and plain predicates) that keep the packets
 * matching a description. Every field is optional; all given fields must match.
 *
 * ```ts
 * packets$.pipe(tcp({ port: 443 }))                 // TCP to or from port 443, v4 or v6
 * packets$.pipe(icmp({ ipVersion: 6 }))             // ICMPv6
 * packets$.pipe(filterProtocol({ protocol: 47 }))   // GRE, by number
 * pcapTap(writer, { filter: packetMatcher({ protocol: 'udp', dstPort: 53 }) })
 * ```
 *
 * `'icmp'` means ICMP over IPv4 and ICMPv6 over IPv6. Packets that do not parse
 * (malformed, or frames without IP) match nothing; pass `counters` to count them.
 */
import { IpProtocol } from '@tunpipe/offload';
import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';
import { checkLinkLayer, tryParsePacket, type LinkLayer, type PacketHeaders, type ParseCounters } from './packet-headers.js';
import type { Packet } from './packet.js';

/** Protocols by name: TCP, UDP, or ICMP (ICMPv4 over IPv4, ICMPv6 over IPv6). */
export type ProtocolName = 'tcp' | 'udp' | 'icmp';

/** What a protocol filter matches. */
export interface ProtocolFilter {
  /** IP version. */
  ipVersion?: 4 | 6;
  /** Upper-layer protocol, by name or IP protocol number. */
  protocol?: ProtocolName | number;
  /** Source or destination port (TCP, UDP). */
  port?: number;
  /** Source port (TCP, UDP). */
  srcPort?: number;
  /** Destination port (TCP, UDP). */
  dstPort?: number;
}

/** Options of the filter operators: the filter plus how to read packets. */
export interface ProtocolFilterOptions extends ProtocolFilter {
  /** What packets start with: 'ip' (TUN, default) or 'ethernet' (TAP). */
  link?: LinkLayer;
  /** Counters of parsed, malformed and non-IP packets (incremented in place). */
  counters?: ParseCounters;
}

/** True when parsed headers match `f`. */
export function headersMatch(headers: PacketHeaders, f: ProtocolFilter): boolean {
  if (f.ipVersion !== undefined && headers.ipVersion !== f.ipVersion) return false;
  if (f.protocol !== undefined && !protocolMatches(headers, f.protocol)) return false;
  if (f.port === undefined && f.srcPort === undefined && f.dstPort === undefined) return true;
  const l4 = headers.tcp ?? headers.udp;
  if (l4 === undefined) return false;
  if (f.srcPort !== undefined && l4.sourcePort !== f.srcPort) return false;
  if (f.dstPort !== undefined && l4.destinationPort !== f.dstPort) return false;
  if (f.port !== undefined && l4.sourcePort !== f.port && l4.destinationPort !== f.port) return false;
  return true;
}

/** A predicate on packets for `options` (e.g. for `pcapTap`'s `filter`). */
export function packetMatcher(options: ProtocolFilterOptions): (packet: Packet) => boolean {
  const link = options.link ?? 'ip';
  checkLinkLayer(link);
  checkFilter(options);
  return (packet) => {
    const headers = tryParsePacket(packet, link, options.counters);
    return headers !== undefined && headersMatch(headers, options);
  };
}

/** Keeps the packets that match `options`. */
export function filterProtocol(options: ProtocolFilterOptions): MonoTypeOperatorFunction<Packet> {
  return filter(packetMatcher(options));
}

/** Keeps IPv4 packets (optionally narrowed further). */
export function ipv4(options: Omit<ProtocolFilterOptions, 'ipVersion'> = {}): MonoTypeOperatorFunction<Packet> {
  return filterProtocol({ ...options, ipVersion: 4 });
}

/** Keeps IPv6 packets (optionally narrowed further). */
export function ipv6(options: Omit<ProtocolFilterOptions, 'ipVersion'> = {}): MonoTypeOperatorFunction<Packet> {
  return filterProtocol({ ...options, ipVersion: 6 });
}

/** Keeps TCP packets, IPv4 and IPv6 (optionally by version and ports). */
export function tcp(options: Omit<ProtocolFilterOptions, 'protocol'> = {}): MonoTypeOperatorFunction<Packet> {
  return filterProtocol({ ...options, protocol: 'tcp' });
}

/** Keeps UDP packets, IPv4 and IPv6 (optionally by version and ports). */
export function udp(options: Omit<ProtocolFilterOptions, 'protocol'> = {}): MonoTypeOperatorFunction<Packet> {
  return filterProtocol({ ...options, protocol: 'udp' });
}

/** Keeps ICMP packets: ICMP over IPv4 and ICMPv6 over IPv6 (optionally one version). */
export function icmp(options: Omit<ProtocolFilterOptions, 'protocol' | 'port' | 'srcPort' | 'dstPort'> = {}): MonoTypeOperatorFunction<Packet> {
  return filterProtocol({ ...options, protocol: 'icmp' });
}

function protocolMatches(headers: PacketHeaders, protocol: ProtocolName | number): boolean {
  switch (protocol) {
    case 'tcp':
      return headers.protocol === IpProtocol.TCP;
    case 'udp':
      return headers.protocol === IpProtocol.UDP;
    case 'icmp':
      return headers.ipVersion === 4 ? headers.protocol === IpProtocol.ICMP : headers.protocol === IpProtocol.ICMPV6;
    default:
      return headers.protocol === protocol;
  }
}

function checkFilter(f: ProtocolFilter): void {
  const bad = (what: string, v: unknown): never => {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `protocol filter: bad ${what} ${String(v)}`);
  };
  if (f.ipVersion !== undefined && f.ipVersion !== 4 && f.ipVersion !== 6) bad('ipVersion', f.ipVersion);
  const p = f.protocol;
  if (p !== undefined && p !== 'tcp' && p !== 'udp' && p !== 'icmp' && !(Number.isInteger(p) && (p as number) >= 0 && (p as number) <= 255)) {
    bad('protocol', p);
  }
  for (const [name, v] of [['port', f.port], ['srcPort', f.srcPort], ['dstPort', f.dstPort]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0xffff)) bad(name, v);
  }
}
