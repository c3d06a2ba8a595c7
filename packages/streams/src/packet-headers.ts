/**
 * A packet's headers as @tunpipe/offload's checked wire views: the one place the
 * streams layer looks inside packets (filters, flow keys and `parseHeaders` all
 * go through `parsePacket`).
 *
 * ```
 * TUN (link 'ip'):        [ IPv4 | IPv6 (+ extension headers) ][ TCP | UDP | ICMP | ICMPv6 | other ]
 * TAP (link 'ethernet'):  [ Ethernet ][ the same ]              (frames without IP are not parsed)
 * ```
 *
 * The views read the packet's own bytes (no copy): they are valid exactly as
 * long as the packet is (see packet.ts). Non-first IPv4 fragments carry no
 * transport header, so only their IP header is parsed.
 */
import {
  EthernetFrame,
  EtherType,
  Icmpv4Message,
  Icmpv6Message,
  IpProtocol,
  Ipv4Packet,
  Ipv6Packet,
  OffloadErrorCode,
  TcpSegment,
  TunError,
  UdpDatagram,
} from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';
import type { Packet } from './packet.js';

/** What the bytes of a packet start with: an IP header (TUN) or an Ethernet header (TAP). */
export type LinkLayer = 'ip' | 'ethernet';

/** The parsed headers of one IP packet. */
export interface PacketHeaders {
  /** The packet the views read. */
  readonly packet: Packet;
  /** The Ethernet header (TAP only). */
  readonly ethernet: EthernetFrame | undefined;
  /** The IP header. */
  readonly ip: Ipv4Packet | Ipv6Packet;
  /** 4 or 6. */
  readonly ipVersion: 4 | 6;
  /** Upper-layer protocol number (after any IPv6 extension headers), as IpProtocol. */
  readonly protocol: number;
  /** True for an IPv4 fragment other than the first (no transport header to parse). */
  readonly laterFragment: boolean;
  /** The TCP header, when protocol is TCP. */
  readonly tcp: TcpSegment | undefined;
  /** The UDP header, when protocol is UDP. */
  readonly udp: UdpDatagram | undefined;
  /** The ICMPv4 header, when protocol is ICMP over IPv4. */
  readonly icmpv4: Icmpv4Message | undefined;
  /** The ICMPv6 header, when protocol is ICMPv6 over IPv6. */
  readonly icmpv6: Icmpv6Message | undefined;
}

/** Counters a caller hands to parsing operators; they are incremented in place. */
export interface ParseCounters {
  /** Packets whose headers parsed. */
  parsed: number;
  /** Packets whose headers did not (too short, bad lengths, wrong version...). */
  malformed: number;
  /** Ethernet frames that carry no IP (ARP, LLDP, VLAN-tagged...): not parsed, not malformed. */
  nonIp: number;
}

/** A zeroed ParseCounters. */
export function parseCounters(): ParseCounters {
  return { parsed: 0, malformed: 0, nonIp: 0 };
}

/**
 * The headers of `packet`, or `undefined` for an Ethernet frame that carries no IP.
 * Throws TunError ERR_TUN_MALFORMED_PACKET (from the wire views) when a header
 * present is not well formed.
 */
export function parsePacket(packet: Packet, link: LinkLayer = 'ip'): PacketHeaders | undefined {
  const bytes = packet.data;
  let ethernet: EthernetFrame | undefined;
  let at = 0;
  if (link === 'ethernet') {
    ethernet = new EthernetFrame(bytes);
    const type = ethernet.etherType;
    if (type !== EtherType.IPV4 && type !== EtherType.IPV6) return undefined;
    at = ethernet.payloadOffset;
  } else {
    checkLinkLayer(link);
  }
  const version = bytes.length > at ? bytes[at]! >> 4 : 0;
  let ip: Ipv4Packet | Ipv6Packet;
  let protocol: number;
  let l4Offset: number;
  let l4End: number;
  let laterFragment = false;
  if (version === 6) {
    const v6 = new Ipv6Packet(bytes, at);
    const upper = v6.upperLayer();
    if (upper === undefined) throw malformed('IPv6 extension headers run past the packet');
    ip = v6;
    protocol = upper.protocol;
    l4Offset = upper.offset;
    l4End = at + v6.length;
  } else {
    // Anything not 6 goes to the IPv4 view, whose constructor names the problem.
    const v4 = new Ipv4Packet(bytes, at);
    ip = v4;
    protocol = v4.protocol;
    l4Offset = v4.payloadOffset;
    l4End = at + v4.totalLength;
    laterFragment = v4.fragmentOffset > 0;
  }
  let tcp: TcpSegment | undefined;
  let udp: UdpDatagram | undefined;
  let icmpv4: Icmpv4Message | undefined;
  let icmpv6: Icmpv6Message | undefined;
  if (!laterFragment) {
    const l4Length = l4End - l4Offset;
    if (protocol === IpProtocol.TCP) tcp = new TcpSegment(bytes, l4Offset, l4Length);
    else if (protocol === IpProtocol.UDP) udp = new UdpDatagram(bytes, l4Offset, l4Length);
    else if (protocol === IpProtocol.ICMP && version !== 6) icmpv4 = new Icmpv4Message(bytes, l4Offset, l4Length);
    else if (protocol === IpProtocol.ICMPV6 && version === 6) icmpv6 = new Icmpv6Message(bytes, l4Offset, l4Length);
  }
  return { packet, ethernet, ip, ipVersion: version === 6 ? 6 : 4, protocol, laterFragment, tcp, udp, icmpv4, icmpv6 };
}

/**
 * `parsePacket` that counts instead of throwing: the headers, or `undefined` for a
 * malformed packet (counted in `malformed`, reported to `onMalformed`) or a non-IP
 * frame (counted in `nonIp`).
 */
export function tryParsePacket(
  packet: Packet,
  link: LinkLayer,
  counters: ParseCounters | undefined,
  onMalformed?: (packet: Packet, error: TunError) => void,
): PacketHeaders | undefined {
  checkLinkLayer(link);
  let headers: PacketHeaders | undefined;
  try {
    headers = parsePacket(packet, link);
  } catch (err) {
    if (!(err instanceof TunError)) throw err;
    if (counters !== undefined) counters.malformed++;
    onMalformed?.(packet, err);
    return undefined;
  }
  if (counters !== undefined) {
    if (headers === undefined) counters.nonIp++;
    else counters.parsed++;
  }
  return headers;
}

/** Throws ERR_TUN_INVALID_ARGUMENT unless `link` is 'ip' or 'ethernet'. */
export function checkLinkLayer(link: unknown): asserts link is LinkLayer {
  if (link !== 'ip' && link !== 'ethernet') {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `link must be 'ip' or 'ethernet', got ${String(link)}`);
  }
}

function malformed(why: string): TunError {
  return new TunError(OffloadErrorCode.MALFORMED_PACKET, `malformed IPv6 packet: ${why}`);
}
