/** Packet builder for ICMPv4 and ICMPv6 messages (echo by default), with valid checksums. */
import { checkField } from '../argument-checks.js';
import { writeU16 } from '../wire/big-endian.js';
import { Icmpv4Field, Icmpv4Message, Icmpv4Type, ICMPV4_HEADER_LEN } from '../wire/icmpv4.js';
import { Icmpv6Message, Icmpv6Type } from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { builtPseudoHeaderSum, writeIpHeader, type IpHeaderOptions } from './ip.js';
import { payloadBytes, type PayloadOption } from './pattern.js';

/** What {@link buildIcmpPacket} puts in the packet. */
export interface IcmpPacketOptions extends IpHeaderOptions {
  /** Message type (default echo request: 8 for IPv4, 128 for IPv6). */
  type?: number;
  /** Message code (default 0). */
  code?: number;
  /** Echo identifier, first half of the rest-of-header word (default 0). */
  identifier?: number;
  /** Echo sequence number, second half (default 0). */
  sequence?: number;
  /** Body after the 8-byte header, or a length of pattern bytes (default empty). */
  payload?: PayloadOption;
}

/** Builds an ICMP packet (ICMPv4 over IPv4, ICMPv6 over IPv6, by the address family). */
export function buildIcmpPacket(options: IcmpPacketOptions): Uint8Array {
  const identifier = options.identifier ?? 0;
  const sequence = options.sequence ?? 0;
  const code = options.code ?? 0;
  checkField(identifier, 0xffff, 'identifier');
  checkField(sequence, 0xffff, 'sequence');
  checkField(code, 0xff, 'code');
  const body = payloadBytes(options.payload, sequence);
  const l4Length = ICMPV4_HEADER_LEN + body.length;
  const isV6 = typeof options.src === 'string' ? options.src.includes(':') : options.src.length === 16;
  const protocol = isV6 ? IpProtocol.ICMPV6 : IpProtocol.ICMP;
  const type = options.type ?? (isV6 ? Icmpv6Type.ECHO_REQUEST : Icmpv4Type.ECHO_REQUEST);
  checkField(type, 0xff, 'type');
  const header = writeIpHeader(options, protocol, l4Length);
  const p = header.packet;
  const at = header.l4Offset;
  p[at + Icmpv4Field.TYPE] = type;
  p[at + Icmpv4Field.CODE] = code;
  writeU16(p, at + Icmpv4Field.IDENTIFIER, identifier);
  writeU16(p, at + Icmpv4Field.SEQUENCE, sequence);
  p.set(body, at + ICMPV4_HEADER_LEN);
  if (isV6) new Icmpv6Message(p, at, l4Length).fillChecksum(builtPseudoHeaderSum(header, protocol, l4Length));
  else new Icmpv4Message(p, at, l4Length).fillChecksum();
  return p;
}
