/**
 * Answers ICMP echo (v4 and v6) and UDP echo (port 7) in place: the request's
 * buffer becomes the reply. `replyInPlace` is the data path (no strings, for
 * queue workers); `answerEcho` also says what the packet was, for logs. Used by
 * the demo, the echo and capture examples and `tunpipe echo`.
 */
import {
  Icmpv4Field,
  Icmpv4Message,
  Icmpv4Type,
  Icmpv6Field,
  Icmpv6Message,
  Icmpv6Type,
  IpProtocol,
  Ipv4Field,
  Ipv4Packet,
  Ipv6Field,
  Ipv6Packet,
  UdpDatagram,
  UdpField,
  isTunError,
} from '@tunpipe/offload';

/** UDP port answered by {@link answerEcho}. */
export const UDP_ECHO_PORT = 7;

/** What one packet was, for logs: `icmp4`, `icmp6`, `udp`, or `other`. */
export type EchoKind = 'icmp4' | 'icmp6' | 'udp' | 'other' | 'malformed';

/** The outcome of {@link answerEcho}: what the packet was and the reply length (0 = no reply). */
export interface EchoResult {
  kind: EchoKind;
  replyLength: number;
  summary: string;
}

function swap(bytes: Uint8Array, a: number, b: number, length: number): void {
  for (let i = 0; i < length; i++) {
    const x = bytes[a + i];
    bytes[a + i] = bytes[b + i];
    bytes[b + i] = x;
  }
}

/** Turns an echo request in `packet` into its reply, in place. Malformed input is reported, never thrown. */
export function answerEcho(packet: Uint8Array): EchoResult {
  const { kind, summary } = describeEcho(packet);
  return { kind, replyLength: kind === 'malformed' ? 0 : replyInPlace(packet), summary };
}

/**
 * Rewrites an echo request (ICMPv4, ICMPv6, UDP to port 7) into its reply in
 * place and returns the reply's length; returns 0 and leaves the packet as it was
 * for anything else, malformed packets included. Builds no strings.
 */
export function replyInPlace(packet: Uint8Array): number {
  try {
    const version = packet.length > 0 ? packet[0]! >> 4 : 0;
    if (version === 4) return replyV4(packet);
    if (version === 6) return replyV6(packet);
    return 0;
  } catch (e) {
    if (isTunError(e)) return 0;
    throw e;
  }
}

function replyV4(packet: Uint8Array): number {
  const ip = new Ipv4Packet(packet);
  const l4 = ip.payloadOffset;
  if (ip.protocol === IpProtocol.ICMP) {
    const icmp = new Icmpv4Message(packet, l4, ip.length - l4);
    if (icmp.type !== Icmpv4Type.ECHO_REQUEST) return 0;
    swap(packet, Ipv4Field.SOURCE, Ipv4Field.DESTINATION, 4);
    packet[l4 + Icmpv4Field.TYPE] = Icmpv4Type.ECHO_REPLY;
    icmp.fillChecksum();
    ip.fillChecksum();
    return ip.length;
  }
  if (ip.protocol === IpProtocol.UDP) {
    const udp = new UdpDatagram(packet, l4, ip.length - l4);
    if (udp.destinationPort !== UDP_ECHO_PORT) return 0;
    swap(packet, Ipv4Field.SOURCE, Ipv4Field.DESTINATION, 4);
    swap(packet, l4 + UdpField.SOURCE_PORT, l4 + UdpField.DESTINATION_PORT, 2);
    udp.fillChecksum(ip.pseudoHeaderSum());
    ip.fillChecksum();
    return ip.length;
  }
  return 0;
}

function replyV6(packet: Uint8Array): number {
  const ip = new Ipv6Packet(packet);
  const l4 = ip.payloadOffset;
  const l4Length = ip.length - l4;
  if (ip.nextHeader === IpProtocol.ICMPV6) {
    const icmp = new Icmpv6Message(packet, l4, l4Length);
    if (icmp.type !== Icmpv6Type.ECHO_REQUEST) return 0;
    swap(packet, Ipv6Field.SOURCE, Ipv6Field.DESTINATION, 16);
    packet[l4 + Icmpv6Field.TYPE] = Icmpv6Type.ECHO_REPLY;
    icmp.fillChecksum(ip.pseudoHeaderSum(IpProtocol.ICMPV6, l4Length));
    return ip.length;
  }
  if (ip.nextHeader === IpProtocol.UDP) {
    const udp = new UdpDatagram(packet, l4, l4Length);
    if (udp.destinationPort !== UDP_ECHO_PORT) return 0;
    swap(packet, Ipv6Field.SOURCE, Ipv6Field.DESTINATION, 16);
    swap(packet, l4 + UdpField.SOURCE_PORT, l4 + UdpField.DESTINATION_PORT, 2);
    udp.fillChecksum(ip.pseudoHeaderSum(IpProtocol.UDP, l4Length));
    return ip.length;
  }
  return 0;
}

/** What `packet` is, for logs (read only; parsed before any rewrite). */
function describeEcho(packet: Uint8Array): { kind: EchoKind; summary: string } {
  try {
    const version = packet.length > 0 ? packet[0]! >> 4 : 0;
    if (version === 4) return describeV4(packet);
    if (version === 6) return describeV6(packet);
    return { kind: 'other', summary: `not IP (${packet.length} B)` };
  } catch (e) {
    if (isTunError(e)) return { kind: 'malformed', summary: `${e.code}: ${e.message}` };
    throw e;
  }
}

function describeV4(packet: Uint8Array): { kind: EchoKind; summary: string } {
  const ip = new Ipv4Packet(packet);
  const route = `${ip.sourceAddress} → ${ip.destinationAddress}`;
  const l4 = ip.payloadOffset;
  if (ip.protocol === IpProtocol.ICMP) {
    const icmp = new Icmpv4Message(packet, l4, ip.length - l4);
    if (icmp.type !== Icmpv4Type.ECHO_REQUEST) return { kind: 'icmp4', summary: `ICMPv4 type ${icmp.type} ${route}` };
    return { kind: 'icmp4', summary: `ICMPv4 echo request ${route} id=${icmp.identifier} seq=${icmp.sequenceNumber}` };
  }
  if (ip.protocol === IpProtocol.UDP) {
    const udp = new UdpDatagram(packet, l4, ip.length - l4);
    if (udp.destinationPort !== UDP_ECHO_PORT) return { kind: 'udp', summary: `UDP ${route}:${udp.destinationPort}` };
    return { kind: 'udp', summary: `UDP echo ${route} (${udp.payload.length} B)` };
  }
  return { kind: 'other', summary: `IPv4 protocol ${ip.protocol} ${route}` };
}

function describeV6(packet: Uint8Array): { kind: EchoKind; summary: string } {
  const ip = new Ipv6Packet(packet);
  const route = `${ip.sourceAddress} → ${ip.destinationAddress}`;
  const l4 = ip.payloadOffset;
  const l4Length = ip.length - l4;
  if (ip.nextHeader === IpProtocol.ICMPV6) {
    const icmp = new Icmpv6Message(packet, l4, l4Length);
    if (icmp.type !== Icmpv6Type.ECHO_REQUEST) return { kind: 'icmp6', summary: `ICMPv6 type ${icmp.type} ${route}` };
    return { kind: 'icmp6', summary: `ICMPv6 echo request ${route} id=${icmp.identifier} seq=${icmp.sequenceNumber}` };
  }
  if (ip.nextHeader === IpProtocol.UDP) {
    const udp = new UdpDatagram(packet, l4, l4Length);
    if (udp.destinationPort !== UDP_ECHO_PORT) return { kind: 'udp', summary: `UDP ${route}:${udp.destinationPort}` };
    return { kind: 'udp', summary: `UDP echo ${route} (${udp.payload.length} B)` };
  }
  return { kind: 'other', summary: `IPv6 next header ${ip.nextHeader} ${route}` };
}
