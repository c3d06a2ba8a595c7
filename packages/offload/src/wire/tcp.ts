/**
 * TCP header (RFC 9293 section 3.1; `struct tcphdr`, <linux/tcp.h>):
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (Data Offset > 5)                  | 20
 * ```
 *
 * The checksum covers a pseudo-header (see checksum.ts), the header and the data.
 */
import { checkField, checkViewBounds } from '../argument-checks.js';
import { foldSum, sumRange } from '../checksum.js';
import { malformedPacket } from '../error-codes.js';
import { readU16, readU32, writeU16, writeU32 } from './big-endian.js';

/** Byte offsets of the TCP header fields. */
export const TcpField = {
  /** u16: source port. */
  SOURCE_PORT: 0,
  /** u16: destination port. */
  DESTINATION_PORT: 2,
  /** u32: sequence number of the first data byte. */
  SEQUENCE: 4,
  /** u32: acknowledgment number. */
  ACKNOWLEDGMENT: 8,
  /** Data offset (high nibble, header length in 32-bit words). */
  DATA_OFFSET: 12,
  /** The flags byte ({@link TcpFlag}). */
  FLAGS: 13,
  /** u16: receive window. */
  WINDOW: 14,
  /** u16: checksum over pseudo-header, header and data. */
  CHECKSUM: 16,
  /** u16: urgent pointer. */
  URGENT_POINTER: 18,
  /** Start of the options. */
  OPTIONS: 20,
} as const;

/** Length of a TCP header without options. */
export const TCP_HEADER_LEN = 20;
/** Longest TCP header (data offset 15). */
export const TCP_MAX_HEADER_LEN = 60;

/** Bits of the TCP flags byte. */
export const TcpFlag = {
  /** No more data from sender. */
  FIN: 0x01,
  /** Synchronize sequence numbers. */
  SYN: 0x02,
  /** Reset the connection. */
  RST: 0x04,
  /** Push. */
  PSH: 0x08,
  /** Acknowledgment field is significant. */
  ACK: 0x10,
  /** Urgent pointer field is significant. */
  URG: 0x20,
  /** ECN echo. */
  ECE: 0x40,
  /** Congestion window reduced. */
  CWR: 0x80,
} as const;

/**
 * A zero-copy view of a TCP segment (header and data). The constructor checks
 * that the data offset is 20..60 bytes and fits; after it, no getter can fail.
 */
export class TcpSegment {
  /** The bytes the view reads and writes (never copied). */
  readonly bytes: Uint8Array;
  /** Where the TCP header starts in `bytes`. */
  readonly offset: number;
  /** Segment length: header plus data (TCP has no length field; the IP layer gives it). */
  readonly length: number;

  /**
   * Checked constructor: throws ERR_TUN_MALFORMED_PACKET unless `bytes[offset,
   * offset + length)` holds a TCP header with a data offset of 20..60 bytes.
   */
  constructor(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
    checkViewBounds(bytes, offset, length, 'TcpSegment');
    if (length < TCP_HEADER_LEN) throw malformedPacket('TCP segment', `${length} bytes, the header needs 20`);
    const headerLength = (bytes[offset + TcpField.DATA_OFFSET] >> 4) * 4;
    if (headerLength < TCP_HEADER_LEN) throw malformedPacket('TCP segment', `data offset ${headerLength} < 20`);
    if (headerLength > length) throw malformedPacket('TCP segment', `data offset ${headerLength} > ${length} bytes`);
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  /** Source port. */
  get sourcePort(): number {
    return readU16(this.bytes, this.offset + TcpField.SOURCE_PORT);
  }
  /** Destination port. */
  get destinationPort(): number {
    return readU16(this.bytes, this.offset + TcpField.DESTINATION_PORT);
  }
  /** Sequence number. */
  get sequenceNumber(): number {
    return readU32(this.bytes, this.offset + TcpField.SEQUENCE);
  }
  /** Acknowledgment number. */
  get ackNumber(): number {
    return readU32(this.bytes, this.offset + TcpField.ACKNOWLEDGMENT);
  }
  /** Header length in bytes (data offset x 4), options included. */
  get headerLength(): number {
    return (this.bytes[this.offset + TcpField.DATA_OFFSET] >> 4) * 4;
  }
  /** The flags byte (see {@link TcpFlag}). */
  get flags(): number {
    return this.bytes[this.offset + TcpField.FLAGS];
  }
  /** FIN flag. */
  get fin(): boolean {
    return (this.flags & TcpFlag.FIN) !== 0;
  }
  /** SYN flag. */
  get syn(): boolean {
    return (this.flags & TcpFlag.SYN) !== 0;
  }
  /** RST flag. */
  get rst(): boolean {
    return (this.flags & TcpFlag.RST) !== 0;
  }
  /** PSH flag. */
  get psh(): boolean {
    return (this.flags & TcpFlag.PSH) !== 0;
  }
  /** ACK flag. */
  get ack(): boolean {
    return (this.flags & TcpFlag.ACK) !== 0;
  }
  /** URG flag. */
  get urg(): boolean {
    return (this.flags & TcpFlag.URG) !== 0;
  }
  /** ECE flag. */
  get ece(): boolean {
    return (this.flags & TcpFlag.ECE) !== 0;
  }
  /** CWR flag. */
  get cwr(): boolean {
    return (this.flags & TcpFlag.CWR) !== 0;
  }
  /** Receive window. */
  get window(): number {
    return readU16(this.bytes, this.offset + TcpField.WINDOW);
  }
  /** Checksum field. */
  get checksum(): number {
    return readU16(this.bytes, this.offset + TcpField.CHECKSUM);
  }
  /** Urgent pointer. */
  get urgentPointer(): number {
    return readU16(this.bytes, this.offset + TcpField.URGENT_POINTER);
  }
  /** Option bytes (a view; empty without options). */
  get options(): Uint8Array {
    return this.bytes.subarray(this.offset + TCP_HEADER_LEN, this.offset + this.headerLength);
  }
  /** Where the data starts in `bytes`. */
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  /** The data (a view). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + this.headerLength, this.offset + this.length);
  }
  /** True when the checksum verifies against `pseudoHeaderSum` (from the IP layer). */
  verifyChecksum(pseudoHeaderSum: number): boolean {
    return foldSum(sumRange(this.bytes, this.offset, this.offset + this.length) + pseudoHeaderSum) === 0xffff;
  }

  /** Sets the sequence number. */
  setSequenceNumber(value: number): void {
    checkField(value, 0xffffffff, 'sequenceNumber');
    writeU32(this.bytes, this.offset + TcpField.SEQUENCE, value);
  }
  /** Sets the acknowledgment number. */
  setAckNumber(value: number): void {
    checkField(value, 0xffffffff, 'ackNumber');
    writeU32(this.bytes, this.offset + TcpField.ACKNOWLEDGMENT, value);
  }
  /** Sets the flags byte. */
  setFlags(value: number): void {
    checkField(value, 0xff, 'flags');
    this.bytes[this.offset + TcpField.FLAGS] = value;
  }
  /** Sets the checksum field as given. */
  setChecksum(value: number): void {
    checkField(value, 0xffff, 'checksum');
    writeU16(this.bytes, this.offset + TcpField.CHECKSUM, value);
  }
  /** Computes the checksum with `pseudoHeaderSum` (from the IP layer) and stores it. */
  fillChecksum(pseudoHeaderSum: number): void {
    checkField(pseudoHeaderSum, Number.MAX_SAFE_INTEGER, 'pseudoHeaderSum');
    writeU16(this.bytes, this.offset + TcpField.CHECKSUM, 0);
    const sum = foldSum(sumRange(this.bytes, this.offset, this.offset + this.length) + pseudoHeaderSum);
    writeU16(this.bytes, this.offset + TcpField.CHECKSUM, ~sum & 0xffff);
  }
}
