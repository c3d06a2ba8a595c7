/**
 * Just enough packet handling for the device tests: find the IP header fields of a
 * received packet, and turn an ICMP/ICMPv6 echo request into its reply (addresses
 * swapped, type 0 / 129, checksums recomputed; the ICMPv6 checksum covers the
 * IPv6 pseudo-header, RFC 8200 section 8.1).
 */
import { formatIPv4, formatIPv6 } from '../../src/address.js';

/** IP protocol / next-header numbers used here. */
export const PROTO_ICMP = 1;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

/** The fields a test looks at. */
export interface IpSummary {
  version: 4 | 6;
  src: string;
  dst: string;
  /** IPv4 protocol or IPv6 next header (no extension headers are followed). */
  protocol: number;
  /** Offset of the transport header. */
  l4: number;
  /** Total length from the IP header. */
  length: number;
}

/** RFC 1071 one's complement sum of `bytes` folded to 16 bits, starting from `sum`. */
export function onesSum(bytes: Uint8Array, sum = 0): number {
  let s = sum;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) s += bytes[bytes.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The Internet checksum of `bytes` (plus a partial sum). */
export function checksum(bytes: Uint8Array, sum = 0): number {
  return ~onesSum(bytes, sum) & 0xffff;
}

/** Parses the IP header at the start of `pkt` (length `n`); null when it is not IPv4/IPv6. */
export function summarize(pkt: Uint8Array, n: number = pkt.length): IpSummary | null {
  if (n < 20) return null;
  const version = pkt[0]! >> 4;
  if (version === 4) {
    const ihl = (pkt[0]! & 0x0f) * 4;
    return {
      version: 4,
      src: formatIPv4(pkt, 12),
      dst: formatIPv4(pkt, 16),
      protocol: pkt[9]!,
      l4: ihl,
      length: (pkt[2]! << 8) | pkt[3]!,
    };
  }
  if (version === 6 && n >= 40) {
    return {
      version: 6,
      src: formatIPv6(pkt, 8),
      dst: formatIPv6(pkt, 24),
      protocol: pkt[6]!,
      l4: 40,
      length: 40 + ((pkt[4]! << 8) | pkt[5]!),
    };
  }
  return null;
}

/** The UDP destination port and payload of a UDP packet, or null. */
export function udpPayload(pkt: Uint8Array, n: number): { dstPort: number; payload: Uint8Array } | null {
  const ip = summarize(pkt, n);
  if (ip === null || ip.protocol !== PROTO_UDP) return null;
  const udp = pkt.subarray(ip.l4, n);
  const length = (udp[4]! << 8) | udp[5]!;
  return { dstPort: (udp[2]! << 8) | udp[3]!, payload: udp.subarray(8, length) };
}

/**
 * The echo reply to an ICMP (v4) or ICMPv6 echo request, as a new packet, or null
 * when `pkt` is something else.
 */
export function echoReply(pkt: Uint8Array, n: number): Uint8Array | null {
  const ip = summarize(pkt, n);
  if (ip === null) return null;
  const out = new Uint8Array(pkt.subarray(0, ip.length));
  const icmp = out.subarray(ip.l4);
  if (ip.version === 4) {
    if (ip.protocol !== PROTO_ICMP || icmp[0] !== 8) return null;
    out.copyWithin(12, 16, 20);
    out.set(pkt.subarray(12, 16), 16);
    out[10] = 0;
    out[11] = 0;
    const hsum = checksum(out.subarray(0, ip.l4));
    out[10] = hsum >> 8;
    out[11] = hsum & 0xff;
    icmp[0] = 0;
    icmp[2] = 0;
    icmp[3] = 0;
    const csum = checksum(icmp);
    icmp[2] = csum >> 8;
    icmp[3] = csum & 0xff;
    return out;
  }
  if (ip.protocol !== PROTO_ICMPV6 || icmp[0] !== 128) return null;
  out.copyWithin(8, 24, 40);
  out.set(pkt.subarray(8, 24), 24);
  icmp[0] = 129;
  icmp[2] = 0;
  icmp[3] = 0;
  // Pseudo-header: source, destination, upper-layer length (32 bits), next header.
  let sum = onesSum(out.subarray(8, 40));
  sum = onesSum(new Uint8Array([0, 0, icmp.length >> 8, icmp.length & 0xff, 0, 0, 0, PROTO_ICMPV6]), sum);
  const csum = checksum(icmp, sum);
  icmp[2] = csum >> 8;
  icmp[3] = csum & 0xff;
  return out;
}

/** EtherTypes, <linux/if_ether.h>. */
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
/** Length of an Ethernet header (destination, source, EtherType). */
export const ETH_HLEN = 14;

/** The EtherType of an Ethernet frame. */
export function etherType(frame: Uint8Array): number {
  return (frame[12]! << 8) | frame[13]!;
}

/**
 * The ARP reply (RFC 826) saying that `ourIp` is at `ourMac`, to an ARP request
 * for `ourIp` in `frame`; null for any other frame.
 */
export function arpReply(frame: Uint8Array, n: number, ourIp: Uint8Array, ourMac: Uint8Array): Uint8Array | null {
  if (n < ETH_HLEN + 28 || etherType(frame) !== ETH_P_ARP) return null;
  const arp = frame.subarray(ETH_HLEN, ETH_HLEN + 28);
  const op = (arp[6]! << 8) | arp[7]!;
  if (op !== 1 || !arp.subarray(24, 28).every((b, i) => b === ourIp[i])) return null;
  const out = new Uint8Array(ETH_HLEN + 28);
  out.set(frame.subarray(6, 12), 0); // to the requester
  out.set(ourMac, 6);
  out.set(frame.subarray(12, ETH_HLEN + 6), 12); // EtherType, htype, ptype, hlen, plen
  const reply = out.subarray(ETH_HLEN);
  reply[6] = 0;
  reply[7] = 2; // op: reply
  reply.set(ourMac, 8); // sender hardware address
  reply.set(ourIp, 14); // sender protocol address
  reply.set(arp.subarray(8, 18), 18); // target = the requester's hardware and protocol address
  return out;
}

/** An Ethernet-framed echo reply to an Ethernet-framed echo request, or null. */
export function etherEchoReply(frame: Uint8Array, n: number): Uint8Array | null {
  const type = etherType(frame);
  if (type !== ETH_P_IP && type !== ETH_P_IPV6) return null;
  const ip = echoReply(frame.subarray(ETH_HLEN, n), n - ETH_HLEN);
  if (ip === null) return null;
  const out = new Uint8Array(ETH_HLEN + ip.length);
  out.set(frame.subarray(6, 12), 0);
  out.set(frame.subarray(0, 6), 6);
  out.set(frame.subarray(12, 14), 12);
  out.set(ip, ETH_HLEN);
  return out;
}
