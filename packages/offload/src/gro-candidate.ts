/**
 * Which packets GRO may look at, decided from the first bytes alone (the
 * thresholds of wireguard-go's packetIsGROCandidate): IPv4 without options or
 * IPv6 with TCP/UDP directly after the fixed header, long enough for the IP
 * header plus a minimal L4 header. Deeper checks (lengths, flags, fragments)
 * happen when the packet is coalesced.
 *
 * | kind | needs                                 | shortest |
 * |------|---------------------------------------|----------|
 * | TCP4 | version 4, IHL 5, protocol 6          | 40       |
 * | UDP4 | version 4, IHL 5, protocol 17, udp on | 28       |
 * | TCP6 | version 6, next header 6              | 60       |
 * | UDP6 | version 6, next header 17, udp on     | 48       |
 */
import { IpProtocol } from './wire/ip-protocol.js';
import { Ipv4Field } from './wire/ipv4.js';
import { Ipv6Field } from './wire/ipv6.js';

/** What GRO can do with a packet: nothing, or coalesce it as one of four flow kinds. */
export const GroCandidate = {
  /** Not coalesced; written as it is. */
  NONE: 0,
  /** TCP over IPv4. */
  TCP4: 1,
  /** TCP over IPv6. */
  TCP6: 2,
  /** UDP over IPv4. */
  UDP4: 3,
  /** UDP over IPv6. */
  UDP6: 4,
} as const;

/** One of the {@link GroCandidate} values. */
export type GroCandidate = (typeof GroCandidate)[keyof typeof GroCandidate];

/**
 * Classifies the packet at `bytes[offset, offset + length)`. `tcp` and `udp`
 * say which kinds the device accepts (TSO, USO). Reads nothing past the packet.
 */
export function groCandidate(bytes: Uint8Array, offset: number, length: number, tcp: boolean, udp: boolean): GroCandidate {
  if (length < 28) return GroCandidate.NONE;
  const version = bytes[offset] >> 4;
  if (version === 4) {
    if ((bytes[offset] & 0x0f) !== 5) return GroCandidate.NONE; // options: never coalesced
    const protocol = bytes[offset + Ipv4Field.PROTOCOL];
    if (protocol === IpProtocol.TCP) return tcp && length >= 40 ? GroCandidate.TCP4 : GroCandidate.NONE;
    if (protocol === IpProtocol.UDP) return udp ? GroCandidate.UDP4 : GroCandidate.NONE;
  } else if (version === 6) {
    const next = bytes[offset + Ipv6Field.NEXT_HEADER];
    if (next === IpProtocol.TCP) return tcp && length >= 60 ? GroCandidate.TCP6 : GroCandidate.NONE;
    if (next === IpProtocol.UDP) return udp && length >= 48 ? GroCandidate.UDP6 : GroCandidate.NONE;
  }
  return GroCandidate.NONE;
}
