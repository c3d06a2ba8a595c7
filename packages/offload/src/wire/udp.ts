/**
 * UDP header (RFC 768; `struct udphdr`, <linux/udp.h>):
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Length             |           Checksum            |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Length counts header and data. A checksum of 0 means "none" (allowed over IPv4
 * only); a computed checksum of 0 is therefore sent as 0xffff.
 */
import { checkField, checkViewBounds } from '../argument-checks.js';
import { foldSum, sumRange } from '../checksum.js';
import { invalidArgument, malformedPacket } from '../error-codes.js';
import { readU16, writeU16 } from './big-endian.js';

/** Byte offsets of the UDP header fields. */
export const UdpField = {
  /** u16: source port. */
  SOURCE_PORT: 0,
  /** u16: destination port. */
  DESTINATION_PORT: 2,
  /** u16: header plus data length. */
  LENGTH: 4,
  /** u16: checksum over pseudo-header, header and data (0: none). */
  CHECKSUM: 6,
} as const;

/** Length of the UDP header. */
export const UDP_HEADER_LEN = 8;

/**
 * A zero-copy view of a UDP datagram. The constructor checks that the length
 * field is at least 8 and fits the bytes; after it, no getter can fail.
 */
export class UdpDatagram {
  /** The bytes the view reads and writes (never copied). */
  readonly bytes: Uint8Array;
  /** Where the UDP header starts in `bytes`. */
  readonly offset: number;
  /** Bytes available from `offset`. */
  readonly available: number;

  /**
   * Checked constructor: throws ERR_TUN_MALFORMED_PACKET unless `bytes[offset,
   * offset + length)` holds a UDP header whose length field is 8..length.
   */
  constructor(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
    checkViewBounds(bytes, offset, length, 'UdpDatagram');
    if (length < UDP_HEADER_LEN) throw malformedPacket('UDP datagram', `${length} bytes, the header needs 8`);
    const field = readU16(bytes, offset + UdpField.LENGTH);
    if (field < UDP_HEADER_LEN) throw malformedPacket('UDP datagram', `length field ${field} < 8`);
    if (field > length) throw malformedPacket('UDP datagram', `length field ${field} > ${length} bytes`);
    this.bytes = bytes;
    this.offset = offset;
    this.available = length;
  }

  /** Source port. */
  get sourcePort(): number {
    return readU16(this.bytes, this.offset + UdpField.SOURCE_PORT);
  }
  /** Destination port. */
  get destinationPort(): number {
    return readU16(this.bytes, this.offset + UdpField.DESTINATION_PORT);
  }
  /** The length field: header plus data. */
  get length(): number {
    return readU16(this.bytes, this.offset + UdpField.LENGTH);
  }
  /** Checksum field (0: none). */
  get checksum(): number {
    return readU16(this.bytes, this.offset + UdpField.CHECKSUM);
  }
  /** Where the data starts in `bytes`. */
  get payloadOffset(): number {
    return this.offset + UDP_HEADER_LEN;
  }
  /** The data (a view). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + UDP_HEADER_LEN, this.offset + this.length);
  }
  /**
   * True when the checksum verifies against `pseudoHeaderSum`. A zero field
   * ("no checksum", legal over IPv4) does not verify; check `checksum === 0` first.
   */
  verifyChecksum(pseudoHeaderSum: number): boolean {
    if (this.checksum === 0) return false;
    return foldSum(sumRange(this.bytes, this.offset, this.offset + this.length) + pseudoHeaderSum) === 0xffff;
  }

  /** Sets the length field (8 up to the bytes available). */
  setLength(value: number): void {
    checkField(value, 0xffff, 'length');
    if (value < UDP_HEADER_LEN || value > this.available) {
      throw invalidArgument(`UDP length ${value} outside 8..${this.available}`);
    }
    writeU16(this.bytes, this.offset + UdpField.LENGTH, value);
  }
  /** Sets the checksum field as given. */
  setChecksum(value: number): void {
    checkField(value, 0xffff, 'checksum');
    writeU16(this.bytes, this.offset + UdpField.CHECKSUM, value);
  }
  /** Computes the checksum with `pseudoHeaderSum` and stores it (0 is sent as 0xffff). */
  fillChecksum(pseudoHeaderSum: number): void {
    checkField(pseudoHeaderSum, Number.MAX_SAFE_INTEGER, 'pseudoHeaderSum');
    writeU16(this.bytes, this.offset + UdpField.CHECKSUM, 0);
    const sum = foldSum(sumRange(this.bytes, this.offset, this.offset + this.length) + pseudoHeaderSum);
    writeU16(this.bytes, this.offset + UdpField.CHECKSUM, ~sum & 0xffff || 0xffff);
  }
}
