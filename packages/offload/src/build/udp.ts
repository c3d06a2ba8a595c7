/** Packet builder for UDP over IPv4 or IPv6. */
import { checkField } from '../argument-checks.js';
import { writeU16 } from '../wire/big-endian.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { UDP_HEADER_LEN, UdpDatagram, UdpField } from '../wire/udp.js';
import { builtPseudoHeaderSum, writeIpHeader, type IpHeaderOptions } from './ip.js';
import { payloadBytes, type PayloadOption } from './pattern.js';

/** What {@link buildUdpPacket} puts in the packet. */
export interface UdpPacketOptions extends IpHeaderOptions {
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** Data, or a length to fill with pattern bytes seeded by `seed` (default empty). */
  payload?: PayloadOption;
  /** Seed of the pattern when `payload` is a length (default 0). */
  seed?: number;
  /** Compute the checksum (default true); false leaves 0, "no checksum" (IPv4 only). */
  checksum?: boolean;
}

/** Builds an IP+UDP packet (valid checksum unless `checksum: false`). */
export function buildUdpPacket(options: UdpPacketOptions): Uint8Array {
  checkField(options.srcPort, 0xffff, 'srcPort');
  checkField(options.dstPort, 0xffff, 'dstPort');
  const payload = payloadBytes(options.payload, options.seed ?? 0);
  const l4Length = UDP_HEADER_LEN + payload.length;
  checkField(l4Length, 0xffff, 'UDP length');
  const header = writeIpHeader(options, IpProtocol.UDP, l4Length);
  const p = header.packet;
  const at = header.l4Offset;
  writeU16(p, at + UdpField.SOURCE_PORT, options.srcPort);
  writeU16(p, at + UdpField.DESTINATION_PORT, options.dstPort);
  writeU16(p, at + UdpField.LENGTH, l4Length);
  p.set(payload, at + UDP_HEADER_LEN);
  if (options.checksum ?? true) {
    new UdpDatagram(p, at, l4Length).fillChecksum(builtPseudoHeaderSum(header, IpProtocol.UDP, l4Length));
  }
  return p;
}
