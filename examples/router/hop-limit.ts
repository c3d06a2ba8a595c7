/**
 * The forwarding step every IP router performs on a packet: decrement the IPv4
 * TTL or the IPv6 hop limit, and keep the IPv4 header checksum right.
 *
 * ```
 *  IPv4 (RFC 791)                          IPv6 (RFC 8200)
 *  byte 8  TTL ─┐ one 16-bit word          byte 7  Hop Limit (no header checksum;
 *  byte 9  Protocol ┘ (TTL << 8 | proto)           not in the L4 pseudo-header)
 *  byte 10 Header Checksum (u16)
 * ```
 *
 * The checksum is updated either incrementally (RFC 1624 eqn. 3:
 * `HC' = ~(~HC + ~m + m')`, m the 16-bit word holding the TTL) or recomputed over
 * the header (RFC 1071). The TTL is not part of any L4 pseudo-header, so TCP/UDP
 * checksums (complete, or partial with NEEDS_CSUM in a virtio header) stay valid.
 * Runs per packet in the router's workers: no allocation.
 */
import { Ipv4Field, Ipv6Field, IPV4_HEADER_LEN, IPV6_HEADER_LEN, internetChecksum } from '@tunpipe/offload';

/** How the IPv4 header checksum is brought up to date after the TTL changes. */
export type ChecksumUpdate = 'incremental' | 'full';

/** What `decrementHopLimit` did to a packet. */
export const HopResult = {
  /** TTL / hop limit decremented (and the IPv4 checksum updated): forward it. */
  FORWARD: 0,
  /** TTL / hop limit was 0 or 1: it must not be forwarded (RFC 1812 5.3.1). */
  EXPIRED: 1,
  /** Not an IPv4/IPv6 packet, or shorter than its fixed header: drop it. */
  MALFORMED: 2,
} as const;

/** One of the `HopResult` values. */
export type HopResultValue = (typeof HopResult)[keyof typeof HopResult];

/**
 * RFC 1624 eqn. 3: the header checksum after one 16-bit word of the covered data
 * changes from `oldWord` to `newWord` (all values u16).
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Decrements the TTL / hop limit of the IP packet at `buf[at, at + length)` in
 * place and, for IPv4, updates the header checksum as `update` says. Returns a
 * `HopResult`; an expired or malformed packet is left unchanged.
 */
export function decrementHopLimit(buf: Uint8Array, at: number, length: number, update: ChecksumUpdate): HopResultValue {
  if (length < 1) return HopResult.MALFORMED;
  const version = buf[at]! >> 4;
  if (version === 4) {
    const ihl = (buf[at]! & 0x0f) * 4;
    if (length < IPV4_HEADER_LEN || ihl < IPV4_HEADER_LEN || ihl > length) return HopResult.MALFORMED;
    const ttlAt = at + Ipv4Field.TTL;
    const ttl = buf[ttlAt]!;
    if (ttl <= 1) return HopResult.EXPIRED;
    const csAt = at + Ipv4Field.CHECKSUM;
    if (update === 'incremental') {
      const proto = buf[ttlAt + 1]!;
      const old = (buf[csAt]! << 8) | buf[csAt + 1]!;
      const next = updateChecksum16(old, (ttl << 8) | proto, ((ttl - 1) << 8) | proto);
      buf[ttlAt] = ttl - 1;
      buf[csAt] = next >> 8;
      buf[csAt + 1] = next & 0xff;
    } else {
      buf[ttlAt] = ttl - 1;
      buf[csAt] = 0;
      buf[csAt + 1] = 0;
      const sum = internetChecksum(buf, at, at + ihl);
      buf[csAt] = sum >> 8;
      buf[csAt + 1] = sum & 0xff;
    }
    return HopResult.FORWARD;
  }
  if (version === 6) {
    if (length < IPV6_HEADER_LEN) return HopResult.MALFORMED;
    const hlAt = at + Ipv6Field.HOP_LIMIT;
    const hl = buf[hlAt]!;
    if (hl <= 1) return HopResult.EXPIRED;
    buf[hlAt] = hl - 1;
    return HopResult.FORWARD;
  }
  return HopResult.MALFORMED;
}
