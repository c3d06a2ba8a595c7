/**
 * Answers ICMP echo (v4 and v6) and UDP echo (port 7) in place: the request's
 * buffer becomes the reply. Used by the demo and the echo example.
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
  try {
    const version = packet.length > 0 ? packet[0] >> 4 : 0;
    if (version === 4) return answerV4(packet);
    if (version === 6) return answerV6(packet);
    return { kind: 'other', replyLength: 0, summary: `not IP (${packet.length} B)` };
  } catch (e) {
    if (isTunError(e)) return { kind: 'malformed', replyLength: 0, summary: `${e.code}: ${e.message}` };
    throw e;
  }
}

function answerV4(packet: Uint8Array): EchoResult {
  const ip = new Ipv4Packet(packet);
  const route = `${ip.sourceAddress} → ${ip.destinationAddress}`;
  const l4 = ip.payloadOffset;
  if (ip.protocol === IpProtocol.ICMP) {
    const icmp = new Icmpv4Message(packet, l4, ip.length - l4);
    if (icmp.type !== Icmpv4Type.ECHO_REQUEST) return { kind: 'icmp4', replyLength: 0, summary: `ICMPv4 type ${icmp.type} ${route}` };
    swap(packet, Ipv4Field.SOURCE, Ipv4Field.DESTINATION, 4);
    packet[l4 + Icmpv4Field.TYPE] = Icmpv4Type.ECHO_REPLY;
    icmp.fillChecksum();
    ip.fillChecksum();
    return { kind: 'icmp4', replyLength: ip.length, summary: `ICMPv4 echo request ${route} id=${icmp.identifier} seq=${icmp.sequenceNumber}` };
  }
  if (ip.protocol === IpProtocol.UDP) {
    const udp = new UdpDatagram(packet, l4, ip.length - l4);
    if (udp.destinationPort !== UDP_ECHO_PORT) return { kind: 'udp', replyLength: 0, summary: `UDP ${route}:${udp.destinationPort}` };
    swap(packet, Ipv4Field.SOURCE, Ipv4Field.DESTINATION, 4);
    swap(packet, l4 + UdpField.SOURCE_PORT, l4 + UdpField.DESTINATION_PORT, 2);
    udp.fillChecksum(ip.pseudoHeaderSum());
    ip.fillChecksum();
    return { kind: 'udp', replyLength: ip.length, summary: `UDP echo ${route} (${udp.payload.length} B)` };
  }
  return { kind: 'other', replyLength: 0, summary: `IPv4 protocol ${ip.protocol} ${route}` };
}

function answerV6(packet: Uint8Array): EchoResult {
  const ip = new Ipv6Packet(packet);
  const route = `${ip.sourceAddress} → ${ip.destinationAddress}`;
  const l4 = ip.payloadOffset;
  const l4Length = ip.length - l4;
  if (ip.nextHeader === IpProtocol.ICMPV6) {
    const icmp = new Icmpv6Message(packet, l4, l4Length);
    if (icmp.type !== Icmpv6Type.ECHO_REQUEST) return { kind: 'icmp6', replyLength: 0, summary: `ICMPv6 type ${icmp.type} ${route}` };
    swap(packet, Ipv6Field.SOURCE, Ipv6Field.DESTINATION, 16);
    packet[l4 + Icmpv6Field.TYPE] = Icmpv6Type.ECHO_REPLY;
    icmp.fillChecksum(ip.pseudoHeaderSum(IpProtocol.ICMPV6, l4Length));
    return { kind: 'icmp6', replyLength: ip.length, summary: `ICMPv6 echo request ${route} id=${icmp.identifier} seq=${icmp.sequenceNumber}` };
  }
  if (ip.nextHeader === IpProtocol.UDP) {
    const udp = new UdpDatagram(packet, l4, l4Length);
    if (udp.destinationPort !== UDP_ECHO_PORT) return { kind: 'udp', replyLength: 0, summary: `UDP ${route}:${udp.destinationPort}` };
    swap(packet, Ipv6Field.SOURCE, Ipv6Field.DESTINATION, 16);
    swap(packet, l4 + UdpField.SOURCE_PORT, l4 + UdpField.DESTINATION_PORT, 2);
    udp.fillChecksum(ip.pseudoHeaderSum(IpProtocol.UDP, l4Length));
    return { kind: 'udp', replyLength: ip.length, summary: `UDP echo ${route} (${udp.payload.length} B)` };
  }
  return { kind: 'other', replyLength: 0, summary: `IPv6 next header ${ip.nextHeader} ${route}` };
}
