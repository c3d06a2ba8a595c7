/**
 * Flow hash for TX queue selection: every packet of one flow (addresses,
 * protocol, ports) gets the same value, so a flow always leaves through the same
 * queue and keeps its order. Not symmetric, not a security boundary.
 *
 * Fields read (network order, RFC 791 / RFC 8200):
 *
 * ```
 * IPv4: protocol @9, src @12..16, dst @16..20, ports @IHL*4 (TCP/UDP/SCTP, first fragment only)
 * IPv6: next header @6, src @8..24, dst @24..40, ports @40 (TCP/UDP/SCTP directly after the header)
 * ```
 */

const TCP = 6;
const UDP = 17;
const SCTP = 132;

function hasPorts(proto: number): boolean {
  return proto === TCP || proto === UDP || proto === SCTP;
}

function word(p: Uint8Array, at: number): number {
  return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
}

/** One round of a murmur3-style mix. */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of the packet's flow; 0 for anything that is not IPv4/IPv6. Allocates nothing. */
export function flowHash(packet: Uint8Array): number {
  const n = packet.length;
  if (n < 1) return 0;
  const version = packet[0]! >> 4;
  let h = 0x9747b28c;
  if (version === 4 && n >= 20) {
    const ihl = (packet[0]! & 0x0f) << 2;
    const proto = packet[9]!;
    h = mix(h, word(packet, 12));
    h = mix(h, word(packet, 16));
    h = mix(h, proto);
    const fragOffset = ((packet[6]! & 0x1f) << 8) | packet[7]!;
    if (hasPorts(proto) && fragOffset === 0 && n >= ihl + 4) h = mix(h, word(packet, ihl));
    return finish(h);
  }
  if (version === 6 && n >= 40) {
    const next = packet[6]!;
    for (let at = 8; at < 40; at += 4) h = mix(h, word(packet, at));
    h = mix(h, next);
    if (hasPorts(next) && n >= 44) h = mix(h, word(packet, 40));
    return finish(h);
  }
  return 0;
}
