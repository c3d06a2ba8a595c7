/**
 * ICMP for IPv4 (RFC 792; `struct icmphdr`, <linux/icmp.h>):
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Rest of header (echo: Identifier | Sequence Number)         |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * The checksum covers the whole ICMP message, no pseudo-header.
 */
import { checkField, checkViewBounds } from '../argument-checks.js';
import { sumRange } from '../checksum.js';
import { malformedPacket } from '../error-codes.js';
import { readU16, readU32, writeU16 } from './big-endian.js';

/** Byte offsets of the ICMPv4 header fields. */
export const Icmpv4Field = {
  /** Message type ({@link Icmpv4Type}). */
  TYPE: 0,
  /** Message code (meaning depends on the type). */
  CODE: 1,
  /** u16: checksum over the whole message. */
  CHECKSUM: 2,
  /** u32: rest of header; for echo, identifier then sequence number. */
  REST_OF_HEADER: 4,
  /** u16: echo identifier. */
  IDENTIFIER: 4,
  /** u16: echo sequence number. */
  SEQUENCE: 6,
} as const;

/** Length of the ICMPv4 header (type, code, checksum, rest of header). */
export const ICMPV4_HEADER_LEN = 8;

/** Common ICMPv4 message types. */
export const Icmpv4Type = {
  /** Echo reply. */
  ECHO_REPLY: 0,
  /** Destination unreachable. */
  DESTINATION_UNREACHABLE: 3,
  /** Redirect. */
  REDIRECT: 5,
  /** Echo request. */
  ECHO_REQUEST: 8,
  /** Time exceeded. */
  TIME_EXCEEDED: 11,
  /** Parameter problem. */
  PARAMETER_PROBLEM: 12,
} as const;

/** A zero-copy view of an ICMPv4 message. The constructor checks the 8-byte header fits. */
export class Icmpv4Message {
  /** The bytes the view reads and writes (never copied). */
  readonly bytes: Uint8Array;
  /** Where the ICMP header starts in `bytes`. */
  readonly offset: number;
  /** Message length (header and body). */
  readonly length: number;

  /** Checked constructor: throws ERR_TUN_MALFORMED_PACKET when fewer than 8 bytes are given. */
  constructor(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
    checkViewBounds(bytes, offset, length, 'Icmpv4Message');
    if (length < ICMPV4_HEADER_LEN) throw malformedPacket('ICMPv4 message', `${length} bytes, the header needs 8`);
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  /** Message type. */
  get type(): number {
    return this.bytes[this.offset + Icmpv4Field.TYPE];
  }
  /** Message code. */
  get code(): number {
    return this.bytes[this.offset + Icmpv4Field.CODE];
  }
  /** Checksum field. */
  get checksum(): number {
    return readU16(this.bytes, this.offset + Icmpv4Field.CHECKSUM);
  }
  /** The 32-bit rest-of-header field. */
  get restOfHeader(): number {
    return readU32(this.bytes, this.offset + Icmpv4Field.REST_OF_HEADER);
  }
  /** Echo identifier (meaningful for echo request/reply). */
  get identifier(): number {
    return readU16(this.bytes, this.offset + Icmpv4Field.IDENTIFIER);
  }
  /** Echo sequence number (meaningful for echo request/reply). */
  get sequenceNumber(): number {
    return readU16(this.bytes, this.offset + Icmpv4Field.SEQUENCE);
  }
  /** The body after the 8-byte header (a view). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + ICMPV4_HEADER_LEN, this.offset + this.length);
  }
  /** True when the checksum over the message verifies. */
  verifyChecksum(): boolean {
    return sumRange(this.bytes, this.offset, this.offset + this.length) === 0xffff;
  }

  /** Sets the checksum field as given. */
  setChecksum(value: number): void {
    checkField(value, 0xffff, 'checksum');
    writeU16(this.bytes, this.offset + Icmpv4Field.CHECKSUM, value);
  }
  /** Computes the checksum over the message and stores it. */
  fillChecksum(): void {
    writeU16(this.bytes, this.offset + Icmpv4Field.CHECKSUM, 0);
    writeU16(this.bytes, this.offset + Icmpv4Field.CHECKSUM, ~sumRange(this.bytes, this.offset, this.offset + this.length) & 0xffff);
  }
}
