/**
 * The IPv6 extension header chain (RFC 8200 section 4). Hop-by-Hop, Routing and
 * Destination Options headers share this shape (`struct ipv6_opt_hdr`,
 * <linux/ipv6.h>), their length counted in 8-byte units beyond the first 8:
 *
 * ```
 * +---------------+---------------+-------------------------------+
 * |  Next Header  |  Hdr Ext Len  |  (Hdr Ext Len + 1) * 8 bytes  |
 * +---------------+---------------+-------------------------------+
 * ```
 *
 * AH (RFC 4302) counts 4-byte units beyond the first 8: `(len + 2) * 4`.
 * A Fragment header, ESP, or anything else ends the walk: it is reported as the
 * upper layer, so callers that expect TCP or UDP see a mismatch.
 */
import { IpProtocol } from './ip-protocol.js';

/** Where the upper layer of an IPv6 packet starts and what it is. */
export interface Ipv6UpperLayer {
  /** Upper-layer protocol number (or the header that ended the walk). */
  protocol: number;
  /** Offset of the upper-layer header in the bytes. */
  offset: number;
}

/**
 * Walks the extension headers of the IPv6 packet at `ipOffset` (`packetLength`
 * bytes long) and stores the upper layer in `out`. Returns false when a header
 * runs past the packet. Allocates nothing; never reads past `ipOffset + packetLength`.
 */
export function findIpv6UpperLayer(bytes: Uint8Array, ipOffset: number, packetLength: number, out: Ipv6UpperLayer): boolean {
  const end = ipOffset + packetLength;
  let next = bytes[ipOffset + 6];
  let at = ipOffset + 40;
  for (;;) {
    let len: number;
    if (next === IpProtocol.HOPOPTS || next === IpProtocol.ROUTING || next === IpProtocol.DSTOPTS) {
      if (at + 2 > end) return false;
      len = (bytes[at + 1] + 1) * 8;
    } else if (next === IpProtocol.AH) {
      if (at + 2 > end) return false;
      len = (bytes[at + 1] + 2) * 4;
    } else {
      out.protocol = next;
      out.offset = at;
      return at <= end;
    }
    if (at + len > end) return false;
    next = bytes[at];
    at += len;
  }
}
