/**
 * ICMP for IPv6 (RFC 4443 section 2.1; `struct icmp6hdr`, <linux/icmpv6.h>):
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Message body (echo: Identifier | Sequence Number; errors: MTU, pointer, unused)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Unlike ICMPv4, the checksum covers the IPv6 pseudo-header (next header 58).
 * Every message type defined by RFC 4443 and RFC 4861 has at least 8 bytes.
 */
import { checkField, checkViewBounds } from '../argument-checks.js';
import { foldSum, sumRange } from '../checksum.js';
import { malformedPacket } from '../error-codes.js';
import { readU16, readU32, writeU16 } from './big-endian.js';

/** Byte offsets of the ICMPv6 header fields. */
export const Icmpv6Field = {
  /** Message type ({@link Icmpv6Type}). */
  TYPE: 0,
  /** Message code. */
  CODE: 1,
  /** u16: checksum over pseudo-header and message. */
  CHECKSUM: 2,
  /** u32: first word of the body (MTU, pointer, or echo identifier/sequence). */
  BODY: 4,
  /** u16: echo identifier. */
  IDENTIFIER: 4,
  /** u16: echo sequence number. */
  SEQUENCE: 6,
} as const;

/** Shortest ICMPv6 message this view accepts (type, code, checksum, first body word). */
export const ICMPV6_HEADER_LEN = 8;

/** Common ICMPv6 message types. */
export const Icmpv6Type = {
  /** Destination unreachable. */
  DESTINATION_UNREACHABLE: 1,
  /** Packet too big. */
  PACKET_TOO_BIG: 2,
  /** Time exceeded. */
  TIME_EXCEEDED: 3,
  /** Parameter problem. */
  PARAMETER_PROBLEM: 4,
  /** Echo request. */
  ECHO_REQUEST: 128,
  /** Echo reply. */
  ECHO_REPLY: 129,
  /** Router solicitation (RFC 4861). */
  ROUTER_SOLICITATION: 133,
  /** Router advertisement (RFC 4861). */
  ROUTER_ADVERTISEMENT: 134,
  /** Neighbor solicitation (RFC 4861). */
  NEIGHBOR_SOLICITATION: 135,
  /** Neighbor advertisement (RFC 4861). */
  NEIGHBOR_ADVERTISEMENT: 136,
} as const;

/** A zero-copy view of an ICMPv6 message. The constructor checks 8 bytes are present. */
export class Icmpv6Message {
  /** The bytes the view reads and writes (never copied). */
  readonly bytes: Uint8Array;
  /** Where the ICMPv6 header starts in `bytes`. */
  readonly offset: number;
  /** Message length (header and body). */
  readonly length: number;

  /** Checked constructor: throws ERR_TUN_MALFORMED_PACKET when fewer than 8 bytes are given. */
  constructor(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
    checkViewBounds(bytes, offset, length, 'Icmpv6Message');
    if (length < ICMPV6_HEADER_LEN) throw malformedPacket('ICMPv6 message', `${length} bytes, need at least 8`);
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  /** Message type. */
  get type(): number {
    return this.bytes[this.offset + Icmpv6Field.TYPE];
  }
  /** Message code. */
  get code(): number {
    return this.bytes[this.offset + Icmpv6Field.CODE];
  }
  /** Checksum field. */
  get checksum(): number {
    return readU16(this.bytes, this.offset + Icmpv6Field.CHECKSUM);
  }
  /** First 32-bit word of the body (MTU for packet-too-big, pointer for parameter problem). */
  get firstWord(): number {
    return readU32(this.bytes, this.offset + Icmpv6Field.BODY);
  }
  /** Echo identifier (meaningful for echo request/reply). */
  get identifier(): number {
    return readU16(this.bytes, this.offset + Icmpv6Field.IDENTIFIER);
  }
  /** Echo sequence number (meaningful for echo request/reply). */
  get sequenceNumber(): number {
    return readU16(this.bytes, this.offset + Icmpv6Field.SEQUENCE);
  }
  /** The body after the first 8 bytes (a view). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + ICMPV6_HEADER_LEN, this.offset + this.length);
  }
  /** True when the checksum verifies against `pseudoHeaderSum` (next header 58, this length). */
  verifyChecksum(pseudoHeaderSum: number): boolean {
    return foldSum(sumRange(this.bytes, this.offset, this.offset + this.length) + pseudoHeaderSum) === 0xffff;
  }

  /** Sets the checksum field as given. */
  setChecksum(value: number): void {
    checkField(value, 0xffff, 'checksum');
    writeU16(this.bytes, this.offset + Icmpv6Field.CHECKSUM, value);
  }
  /** Computes the checksum with `pseudoHeaderSum` and stores it. */
  fillChecksum(pseudoHeaderSum: number): void {
    checkField(pseudoHeaderSum, Number.MAX_SAFE_INTEGER, 'pseudoHeaderSum');
    writeU16(this.bytes, this.offset + Icmpv6Field.CHECKSUM, 0);
    const sum = foldSum(sumRange(this.bytes, this.offset, this.offset + this.length) + pseudoHeaderSum);
    writeU16(this.bytes, this.offset + Icmpv6Field.CHECKSUM, ~sum & 0xffff);
  }
}
