/** Packet builder for TCP over IPv4 or IPv6, with a valid checksum. */
import { checkField } from '../argument-checks.js';
import { invalidArgument } from '../error-codes.js';
import { writeU16, writeU32 } from '../wire/big-endian.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { TCP_HEADER_LEN, TcpField, TcpFlag, TcpSegment } from '../wire/tcp.js';
import { builtPseudoHeaderSum, writeIpHeader, type IpHeaderOptions } from './ip.js';
import { payloadBytes, type PayloadOption } from './pattern.js';

/** What {@link buildTcpPacket} puts in the packet. */
export interface TcpPacketOptions extends IpHeaderOptions {
  /** Source port. */
  srcPort: number;
  /** Destination port. */
  dstPort: number;
  /** Sequence number (default 0). */
  seq?: number;
  /** Acknowledgment number (default 0). */
  ack?: number;
  /** Flags byte (default ACK). */
  flags?: number;
  /** Window (default 65535). */
  window?: number;
  /** Urgent pointer (default 0). */
  urgentPointer?: number;
  /** Option bytes, a multiple of 4, at most 40 (default none). */
  tcpOptions?: Uint8Array;
  /** Data, or a length to fill with pattern bytes seeded by `seq` (default empty). */
  payload?: PayloadOption;
}

/** Builds an IP+TCP packet with valid IP and TCP checksums. */
export function buildTcpPacket(options: TcpPacketOptions): Uint8Array {
  const seq = options.seq ?? 0;
  const ack = options.ack ?? 0;
  const flags = options.flags ?? TcpFlag.ACK;
  const window = options.window ?? 65535;
  const urgent = options.urgentPointer ?? 0;
  checkField(options.srcPort, 0xffff, 'srcPort');
  checkField(options.dstPort, 0xffff, 'dstPort');
  checkField(seq, 0xffffffff, 'seq');
  checkField(ack, 0xffffffff, 'ack');
  checkField(flags, 0xff, 'flags');
  checkField(window, 0xffff, 'window');
  checkField(urgent, 0xffff, 'urgentPointer');
  const tcpOptions = options.tcpOptions ?? new Uint8Array(0);
  if (tcpOptions.length % 4 !== 0 || tcpOptions.length > 40) throw invalidArgument('tcpOptions must be a multiple of 4 bytes, at most 40');
  const payload = payloadBytes(options.payload, seq);
  const headerLength = TCP_HEADER_LEN + tcpOptions.length;
  const l4Length = headerLength + payload.length;
  const header = writeIpHeader(options, IpProtocol.TCP, l4Length);
  const p = header.packet;
  const at = header.l4Offset;
  writeU16(p, at + TcpField.SOURCE_PORT, options.srcPort);
  writeU16(p, at + TcpField.DESTINATION_PORT, options.dstPort);
  writeU32(p, at + TcpField.SEQUENCE, seq);
  writeU32(p, at + TcpField.ACKNOWLEDGMENT, ack);
  p[at + TcpField.DATA_OFFSET] = (headerLength / 4) << 4;
  p[at + TcpField.FLAGS] = flags;
  writeU16(p, at + TcpField.WINDOW, window);
  writeU16(p, at + TcpField.URGENT_POINTER, urgent);
  p.set(tcpOptions, at + TCP_HEADER_LEN);
  p.set(payload, at + headerLength);
  new TcpSegment(p, at, l4Length).fillChecksum(builtPseudoHeaderSum(header, IpProtocol.TCP, l4Length));
  return p;
}
