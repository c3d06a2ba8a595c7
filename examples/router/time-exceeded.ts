/**
 * ICMP Time Exceeded (RFC 792 / RFC 4443 section 3.3), built in place over the
 * packet that expired, so a router worker can answer it with a TX verdict:
 *
 * ```
 *  before:  at ─► [ expired packet ................................ ]
 *  after:   at ─► [ IP header ][ ICMP type/code/csum/unused ][ quote of the packet ]
 *                   20 or 40       8 bytes                    ≤ 548 (v4) / ≤ 1232 (v6)
 * ```
 *
 * The quote is moved up with `copyWithin` (no allocation); the new packet goes
 * from `source` (the router's address on that side) back to the expired packet's
 * sender. No error is sent about an ICMP error or to a multicast/broadcast
 * sender (RFC 1812 4.3.2.7, RFC 4443 2.4).
 */
import {
  Ipv4Field, Ipv6Field, IPV4_HEADER_LEN, IPV6_HEADER_LEN, IpProtocol, Icmpv4Type, Icmpv6Type,
  internetChecksum, ipv6PseudoHeaderSum,
} from '@tunpipe/offload';

/** ICMP header before the quote: type, code, checksum, 4 unused bytes. */
const ICMP_HEADER = 8;
/** RFC 1812 4.3.2.3: an ICMPv4 error should fit 576 bytes. */
const V4_MAX_ERROR = 576;
/** RFC 4443 2.4(c): an ICMPv6 error must fit the minimum IPv6 MTU. */
const V6_MAX_ERROR = 1280;
/** TTL / hop limit of the errors the router sends. */
const ERROR_TTL = 64;

/**
 * Rewrites the expired IPv4 or IPv6 packet at `buf[at, at + length)` into an
 * ICMP Time Exceeded from `source` (4 or 16 bytes, the packet's family) to its
 * sender. Returns the new length, or 0 when no error may or can be sent (an ICMP
 * error, a multicast sender, too little room); the packet is then unchanged.
 */
export function writeTimeExceeded(buf: Uint8Array, at: number, length: number, source: Uint8Array): number {
  const version = buf[at]! >> 4;
  if (version === 4) return v4(buf, at, length, source);
  if (version === 6) return v6(buf, at, length, source);
  return 0;
}

function v4(buf: Uint8Array, at: number, length: number, source: Uint8Array): number {
  const ihl = (buf[at]! & 0x0f) * 4;
  if (source.length !== 4 || length < IPV4_HEADER_LEN || ihl < IPV4_HEADER_LEN || ihl > length) return 0;
  const sender = buf[at + Ipv4Field.SOURCE]!;
  if (sender >= 224 || sender === 0) return 0; // multicast, broadcast, "this network"
  const fragmentOffset = ((buf[at + Ipv4Field.FLAGS_FRAGMENT]! << 8) | buf[at + Ipv4Field.FLAGS_FRAGMENT + 1]!) & 0x1fff;
  if (fragmentOffset !== 0) return 0; // only about the first fragment
  if (buf[at + Ipv4Field.PROTOCOL] === IpProtocol.ICMP && length > ihl && isIcmpv4Error(buf[at + ihl]!)) return 0;
  const header = IPV4_HEADER_LEN + ICMP_HEADER;
  const quote = Math.min(length, V4_MAX_ERROR - header);
  const total = header + quote;
  if (at + total > buf.length) return 0;
  buf.copyWithin(at + header, at, at + quote);
  const q = at + header; // the quoted header: its source is our destination
  buf[at] = 0x45;
  buf[at + Ipv4Field.TOS] = 0;
  put16(buf, at + Ipv4Field.TOTAL_LENGTH, total);
  put16(buf, at + Ipv4Field.IDENTIFICATION, 0);
  put16(buf, at + Ipv4Field.FLAGS_FRAGMENT, 0);
  buf[at + Ipv4Field.TTL] = ERROR_TTL;
  buf[at + Ipv4Field.PROTOCOL] = IpProtocol.ICMP;
  put16(buf, at + Ipv4Field.CHECKSUM, 0);
  buf.set(source, at + Ipv4Field.SOURCE);
  buf.copyWithin(at + Ipv4Field.DESTINATION, q + Ipv4Field.SOURCE, q + Ipv4Field.SOURCE + 4);
  put16(buf, at + Ipv4Field.CHECKSUM, internetChecksum(buf, at, at + IPV4_HEADER_LEN));
  const icmp = at + IPV4_HEADER_LEN;
  buf[icmp] = Icmpv4Type.TIME_EXCEEDED;
  buf[icmp + 1] = 0; // code 0: TTL exceeded in transit
  buf.fill(0, icmp + 2, icmp + ICMP_HEADER);
  put16(buf, icmp + 2, internetChecksum(buf, icmp, at + total));
  return total;
}

function v6(buf: Uint8Array, at: number, length: number, source: Uint8Array): number {
  if (source.length !== 16 || length < IPV6_HEADER_LEN) return 0;
  if (buf[at + Ipv6Field.SOURCE] === 0xff) return 0; // multicast sender
  if (isUnspecified(buf, at + Ipv6Field.SOURCE)) return 0;
  if (buf[at + Ipv6Field.NEXT_HEADER] === IpProtocol.ICMPV6 && length > IPV6_HEADER_LEN && buf[at + IPV6_HEADER_LEN]! < 128) return 0;
  const header = IPV6_HEADER_LEN + ICMP_HEADER;
  const quote = Math.min(length, V6_MAX_ERROR - header);
  const total = header + quote;
  if (at + total > buf.length) return 0;
  buf.copyWithin(at + header, at, at + quote);
  const q = at + header;
  buf[at] = 0x60;
  buf.fill(0, at + 1, at + 4); // traffic class, flow label
  put16(buf, at + Ipv6Field.PAYLOAD_LENGTH, total - IPV6_HEADER_LEN);
  buf[at + Ipv6Field.NEXT_HEADER] = IpProtocol.ICMPV6;
  buf[at + Ipv6Field.HOP_LIMIT] = ERROR_TTL;
  buf.set(source, at + Ipv6Field.SOURCE);
  buf.copyWithin(at + Ipv6Field.DESTINATION, q + Ipv6Field.SOURCE, q + Ipv6Field.SOURCE + 16);
  const icmp = at + IPV6_HEADER_LEN;
  buf[icmp] = Icmpv6Type.TIME_EXCEEDED;
  buf[icmp + 1] = 0; // code 0: hop limit exceeded in transit
  buf.fill(0, icmp + 2, icmp + ICMP_HEADER);
  const pseudo = ipv6PseudoHeaderSum(buf, at, IpProtocol.ICMPV6, total - IPV6_HEADER_LEN);
  put16(buf, icmp + 2, internetChecksum(buf, icmp, at + total, pseudo));
  return total;
}

/** ICMPv4 error types (RFC 1122 3.2.2): destination unreachable, source quench, redirect, time exceeded, parameter problem. */
function isIcmpv4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

function isUnspecified(buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[at + i] !== 0) return false;
  return true;
}

function put16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >> 8;
  buf[at + 1] = value & 0xff;
}
