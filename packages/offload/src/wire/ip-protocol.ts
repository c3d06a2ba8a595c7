/**
 * IP protocol numbers (the IPv4 Protocol field and the IPv6 Next Header field),
 * from the IANA "Assigned Internet Protocol Numbers" registry; the same values as
 * `IPPROTO_*` in <linux/in.h> and <linux/in6.h>.
 */
export const IpProtocol = {
  /** IPv6 Hop-by-Hop Options extension header (RFC 8200). */
  HOPOPTS: 0,
  /** Internet Control Message Protocol (RFC 792). */
  ICMP: 1,
  /** Transmission Control Protocol (RFC 9293). */
  TCP: 6,
  /** User Datagram Protocol (RFC 768). */
  UDP: 17,
  /** IPv6 Routing extension header. */
  ROUTING: 43,
  /** IPv6 Fragment extension header. */
  FRAGMENT: 44,
  /** Generic Routing Encapsulation (RFC 2784). */
  GRE: 47,
  /** Encapsulating Security Payload (RFC 4303). */
  ESP: 50,
  /** Authentication Header (RFC 4302). */
  AH: 51,
  /** ICMP for IPv6 (RFC 4443). */
  ICMPV6: 58,
  /** IPv6 "no next header". */
  NONE: 59,
  /** IPv6 Destination Options extension header. */
  DSTOPTS: 60,
} as const;

/** One of the protocol numbers named in {@link IpProtocol} (any 0..255 is valid on the wire). */
export type IpProtocol = (typeof IpProtocol)[keyof typeof IpProtocol];
