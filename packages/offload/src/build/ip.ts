/**
 * Packet builders, IP layer: writes an IPv4 or IPv6 header (family chosen by the
 * source address) in front of an upper-layer payload. The TCP, UDP and ICMP
 * builders use it; `buildIpPacket` exposes it for any protocol (GRE, raw...).
 *
 * Builders allocate the packet they return: they are for tests and for crafting
 * packets, not for hot paths.
 */
import { checkField } from '../argument-checks.js';
import { foldSum, ipv4AddressSum, ipv6AddressSum } from '../checksum.js';
import { invalidArgument } from '../error-codes.js';
import { writeU16 } from '../wire/big-endian.js';
import { parseIpAddress } from '../wire/ip-address.js';
import { Ipv4Field, Ipv4Flag, IPV4_HEADER_LEN, writeIpv4HeaderChecksum } from '../wire/ipv4.js';
import { Ipv6Field, IPV6_HEADER_LEN } from '../wire/ipv6.js';

/** An IPv6 extension header to put between the fixed header and the upper layer. */
export interface Ipv6ExtensionHeader {
  /** Its type: IpProtocol.HOPOPTS, ROUTING or DSTOPTS (8-byte-unit length encoding). */
  type: number;
  /** Body after the next-header and length bytes; zero-padded to a multiple of 8 in total. */
  data?: Uint8Array;
}

/** IP-layer options shared by every builder. */
export interface IpHeaderOptions {
  /** Source address: text (`192.0.2.1`, `2001:db8::1`) or 4/16 bytes. Picks the IP version. */
  src: string | Uint8Array;
  /** Destination address, same family as `src`. */
  dst: string | Uint8Array;
  /** IPv4 TTL or IPv6 hop limit (default 64). */
  ttl?: number;
  /** IPv4 ToS or IPv6 traffic class (default 0). */
  tos?: number;
  /** IPv4 identification (default 0). */
  id?: number;
  /** IPv4 Don't Fragment (default false). */
  df?: boolean;
  /** IPv4 More Fragments (default false). */
  mf?: boolean;
  /** IPv4 fragment offset in bytes, a multiple of 8 (default 0). */
  fragmentOffset?: number;
  /** IPv4 option bytes, a multiple of 4, at most 40 (default none). */
  ipOptions?: Uint8Array;
  /** IPv6 flow label (default 0). */
  flowLabel?: number;
  /** IPv6 extension headers, in order (default none). */
  extensionHeaders?: readonly Ipv6ExtensionHeader[];
}

/** The IP header of a packet being built: where it ends and what the pseudo-header sums to. */
export interface BuiltIpHeader {
  /** The packet, IP header written, upper layer still zero. */
  packet: Uint8Array;
  /** Offset of the upper-layer header. */
  l4Offset: number;
  /** 4 or 6. */
  version: 4 | 6;
}

function address(value: string | Uint8Array, what: string): Uint8Array {
  const bytes = typeof value === 'string' ? parseIpAddress(value) : value;
  if (bytes.length !== 4 && bytes.length !== 16) throw invalidArgument(`${what} must be 4 or 16 bytes, got ${bytes.length}`);
  return bytes;
}

function extensionLength(ext: Ipv6ExtensionHeader): number {
  return Math.ceil((2 + (ext.data?.length ?? 0)) / 8) * 8;
}

/**
 * Allocates a packet of IP header plus `l4Length` bytes and writes the IP header
 * for upper-layer `protocol`. The caller fills in the upper layer.
 */
export function writeIpHeader(options: IpHeaderOptions, protocol: number, l4Length: number): BuiltIpHeader {
  const src = address(options.src, 'src');
  const dst = address(options.dst, 'dst');
  if (src.length !== dst.length) throw invalidArgument('src and dst must be the same IP version');
  checkField(protocol, 0xff, 'protocol');
  const ttl = options.ttl ?? 64;
  const tos = options.tos ?? 0;
  checkField(ttl, 0xff, 'ttl');
  checkField(tos, 0xff, 'tos');
  if (src.length === 4) {
    const ipOptions = options.ipOptions ?? new Uint8Array(0);
    if (ipOptions.length % 4 !== 0 || ipOptions.length > 40) throw invalidArgument('ipOptions must be a multiple of 4 bytes, at most 40');
    const headerLength = IPV4_HEADER_LEN + ipOptions.length;
    const total = headerLength + l4Length;
    if (total > 0xffff) throw invalidArgument(`an IPv4 packet of ${total} bytes exceeds 65535`);
    const id = options.id ?? 0;
    const fragmentOffset = options.fragmentOffset ?? 0;
    checkField(id, 0xffff, 'id');
    if (fragmentOffset % 8 !== 0) throw invalidArgument('fragmentOffset must be a multiple of 8');
    checkField(fragmentOffset / 8, Ipv4Flag.FRAGMENT_OFFSET_MASK, 'fragmentOffset / 8');
    const packet = new Uint8Array(total);
    packet[0] = 0x40 | (headerLength / 4);
    packet[Ipv4Field.TOS] = tos;
    writeU16(packet, Ipv4Field.TOTAL_LENGTH, total);
    writeU16(packet, Ipv4Field.IDENTIFICATION, id);
    writeU16(
      packet,
      Ipv4Field.FLAGS_FRAGMENT,
      (options.df ? Ipv4Flag.DONT_FRAGMENT : 0) | (options.mf ? Ipv4Flag.MORE_FRAGMENTS : 0) | (fragmentOffset / 8),
    );
    packet[Ipv4Field.TTL] = ttl;
    packet[Ipv4Field.PROTOCOL] = protocol;
    packet.set(src, Ipv4Field.SOURCE);
    packet.set(dst, Ipv4Field.DESTINATION);
    packet.set(ipOptions, IPV4_HEADER_LEN);
    writeIpv4HeaderChecksum(packet, 0);
    return { packet, l4Offset: headerLength, version: 4 };
  }
  const extensions = options.extensionHeaders ?? [];
  let extLength = 0;
  for (const ext of extensions) extLength += extensionLength(ext);
  const payloadLength = extLength + l4Length;
  if (payloadLength > 0xffff) throw invalidArgument(`an IPv6 payload of ${payloadLength} bytes exceeds 65535`);
  const flowLabel = options.flowLabel ?? 0;
  checkField(flowLabel, 0xfffff, 'flowLabel');
  const packet = new Uint8Array(IPV6_HEADER_LEN + payloadLength);
  packet[0] = 0x60 | (tos >> 4);
  packet[1] = ((tos & 0x0f) << 4) | (flowLabel >> 16);
  packet[2] = flowLabel >> 8;
  packet[3] = flowLabel;
  writeU16(packet, Ipv6Field.PAYLOAD_LENGTH, payloadLength);
  packet[Ipv6Field.HOP_LIMIT] = ttl;
  packet.set(src, Ipv6Field.SOURCE);
  packet.set(dst, Ipv6Field.DESTINATION);
  let nextAt: number = Ipv6Field.NEXT_HEADER;
  let at: number = IPV6_HEADER_LEN;
  for (const ext of extensions) {
    checkField(ext.type, 0xff, 'extension header type');
    const len = extensionLength(ext);
    packet[nextAt] = ext.type;
    packet[at + 1] = len / 8 - 1;
    if (ext.data) packet.set(ext.data, at + 2);
    nextAt = at;
    at += len;
  }
  packet[nextAt] = protocol;
  return { packet, l4Offset: at, version: 6 };
}

/** The pseudo-header sum (folded) for the upper layer of a packet built by {@link writeIpHeader}. */
export function builtPseudoHeaderSum(header: BuiltIpHeader, protocol: number, l4Length: number): number {
  const addrSum = header.version === 4 ? ipv4AddressSum(header.packet, 0) : ipv6AddressSum(header.packet, 0);
  return foldSum(addrSum + protocol + Math.floor(l4Length / 65536) + (l4Length & 0xffff));
}

/** Builds an IP packet of any `protocol` around `payload` (e.g. GRE, or a hand-made L4). */
export function buildIpPacket(options: IpHeaderOptions & { protocol: number; payload?: Uint8Array }): Uint8Array {
  const payload = options.payload ?? new Uint8Array(0);
  const header = writeIpHeader(options, options.protocol, payload.length);
  header.packet.set(payload, header.l4Offset);
  return header.packet;
}
