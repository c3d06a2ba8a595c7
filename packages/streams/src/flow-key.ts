/**
 * Flow keys: the 5-tuple of a packet as one stable string,
 *
 * ```
 * "<protocol>|<source address>|<source port>|<destination address>|<destination port>"
 * "6|198.18.0.1|40000|198.18.0.2|80"        TCP over IPv4
 * "17|fd00::1|5353|fd00::2|53"              UDP over IPv6 (addresses in RFC 5952 text)
 * "1|198.18.0.1|4711|198.18.0.2|4711"       ICMP echo: the identifier stands in for both ports
 * ```
 *
 * The protocol is the IP protocol number. Protocols without ports, ICMP other than
 * echo, and IPv4 fragments after the first use port 0. With `bidirectional`, the
 * two endpoints are put in a canonical order (the one whose `address|port` text
 * sorts first comes first), so both directions of a conversation share one key.
 */
import { Icmpv4Type, Icmpv6Type } from '@tunpipe/offload';
import { filter, map, pipe, type OperatorFunction } from 'rxjs';
import { checkLinkLayer, tryParsePacket, type LinkLayer, type PacketHeaders, type ParseCounters } from './packet-headers.js';
import type { Packet } from './packet.js';

/** Options of flow keys. */
export interface FlowKeyOptions {
  /** One key for both directions of a flow (default false: the 5-tuple as seen). */
  bidirectional?: boolean;
}

/** The flow key of parsed headers (format in the module comment). */
export function flowKeyOf(headers: PacketHeaders, options: FlowKeyOptions = {}): string {
  let srcPort = 0;
  let dstPort = 0;
  if (headers.tcp !== undefined) {
    srcPort = headers.tcp.sourcePort;
    dstPort = headers.tcp.destinationPort;
  } else if (headers.udp !== undefined) {
    srcPort = headers.udp.sourcePort;
    dstPort = headers.udp.destinationPort;
  } else if (headers.icmpv4 !== undefined) {
    const type = headers.icmpv4.type;
    if (type === Icmpv4Type.ECHO_REQUEST || type === Icmpv4Type.ECHO_REPLY) srcPort = dstPort = headers.icmpv4.identifier;
  } else if (headers.icmpv6 !== undefined) {
    const type = headers.icmpv6.type;
    if (type === Icmpv6Type.ECHO_REQUEST || type === Icmpv6Type.ECHO_REPLY) srcPort = dstPort = headers.icmpv6.identifier;
  }
  const a = `${headers.ip.sourceAddress}|${srcPort}`;
  const b = `${headers.ip.destinationAddress}|${dstPort}`;
  if (options.bidirectional === true && b < a) return `${headers.protocol}|${b}|${a}`;
  return `${headers.protocol}|${a}|${b}`;
}

/** A packet with its headers and flow key, as `flowKey()` emits it. */
export interface KeyedPacket {
  /** The flow key (format in the module comment). */
  readonly key: string;
  /** The packet. */
  readonly packet: Packet;
  /** Its parsed headers (views into the packet). */
  readonly headers: PacketHeaders;
}

/** Options of `flowKey()` and `groupByFlow()`. */
export interface FlowOperatorOptions extends FlowKeyOptions {
  /** What packets start with: 'ip' (TUN, default) or 'ethernet' (TAP). */
  link?: LinkLayer;
  /** Counters of parsed, malformed and non-IP packets (unparsable packets are left out). */
  counters?: ParseCounters;
}

/** Maps packets to `{ key, packet, headers }`; packets that do not parse are counted and left out. */
export function flowKey(options: FlowOperatorOptions = {}): OperatorFunction<Packet, KeyedPacket> {
  const link = options.link ?? 'ip';
  checkLinkLayer(link);
  return pipe(
    map((packet: Packet): KeyedPacket | undefined => {
      const headers = tryParsePacket(packet, link, options.counters);
      return headers === undefined ? undefined : { key: flowKeyOf(headers, options), packet, headers };
    }),
    filter((k): k is KeyedPacket => k !== undefined),
  );
}
