/**
 * IPv4 header (RFC 791 section 3.1; `struct iphdr`, <linux/ip.h>):
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |   DSCP    |ECN|          Total Length         |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |0|D|M|     Fragment Offset     |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (IHL > 5)                          | 20
 * ```
 */
import { checkField, checkViewBounds } from '../argument-checks.js';
import { foldSum, ipv4AddressSum, sumRange } from '../checksum.js';
import { invalidArgument, malformedPacket } from '../error-codes.js';
import { readU16, writeU16 } from './big-endian.js';
import { formatIpv4 } from './ip-address.js';

/** Byte offsets of the IPv4 header fields. */
export const Ipv4Field = {
  /** Version (high nibble) and IHL, the header length in 32-bit words (low nibble). */
  VERSION_IHL: 0,
  /** DSCP (high 6 bits) and ECN (low 2 bits), formerly Type of Service. */
  TOS: 1,
  /** u16: header plus payload length in bytes. */
  TOTAL_LENGTH: 2,
  /** u16: identification, for fragment reassembly. */
  IDENTIFICATION: 4,
  /** u16: flags (reserved, DF, MF) in the top 3 bits, fragment offset in 8-byte units below. */
  FLAGS_FRAGMENT: 6,
  /** Time to live. */
  TTL: 8,
  /** The upper-layer protocol ({@link IpProtocol}). */
  PROTOCOL: 9,
  /** u16: header checksum (RFC 1071 over the header only). */
  CHECKSUM: 10,
  /** 4 bytes: source address. */
  SOURCE: 12,
  /** 4 bytes: destination address. */
  DESTINATION: 16,
} as const;

/** Length of an IPv4 header without options. */
export const IPV4_HEADER_LEN = 20;

/** Bits of the 16-bit flags/fragment-offset word at {@link Ipv4Field.FLAGS_FRAGMENT}. */
export const Ipv4Flag = {
  /** Don't Fragment. */
  DONT_FRAGMENT: 0x4000,
  /** More Fragments follow. */
  MORE_FRAGMENTS: 0x2000,
  /** Mask of the fragment offset (in 8-byte units). */
  FRAGMENT_OFFSET_MASK: 0x1fff,
} as const;

/**
 * A zero-copy view of an IPv4 packet. The constructor checks the header (version,
 * header length, total length against the bytes available); after it, no getter
 * can fail or read outside the packet. Setters check their argument so the view
 * stays valid.
 */
export class Ipv4Packet {
  /** The bytes the view reads and writes (never copied). */
  readonly bytes: Uint8Array;
  /** Where the IPv4 header starts in `bytes`. */
  readonly offset: number;
  /** Bytes available from `offset` (the total length may be smaller: link-layer padding). */
  readonly available: number;

  /**
   * Checked constructor: throws ERR_TUN_MALFORMED_PACKET unless `bytes[offset,
   * offset + length)` starts with a well-formed IPv4 header whose total length
   * fits, and ERR_TUN_INVALID_ARGUMENT for a range outside `bytes`.
   */
  constructor(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
    checkViewBounds(bytes, offset, length, 'Ipv4Packet');
    if (length < IPV4_HEADER_LEN) throw malformedPacket('IPv4 packet', `${length} bytes, the header needs 20`);
    const version = bytes[offset] >> 4;
    if (version !== 4) throw malformedPacket('IPv4 packet', `version ${version}`);
    const headerLength = (bytes[offset] & 0x0f) * 4;
    if (headerLength < IPV4_HEADER_LEN) throw malformedPacket('IPv4 packet', `header length ${headerLength} < 20`);
    if (headerLength > length) throw malformedPacket('IPv4 packet', `header length ${headerLength} > ${length} bytes`);
    const totalLength = readU16(bytes, offset + Ipv4Field.TOTAL_LENGTH);
    if (totalLength < headerLength) {
      throw malformedPacket('IPv4 packet', `total length ${totalLength} < header length ${headerLength}`);
    }
    if (totalLength > length) throw malformedPacket('IPv4 packet', `total length ${totalLength} > ${length} bytes`);
    this.bytes = bytes;
    this.offset = offset;
    this.available = length;
  }

  /** IP version (always 4). */
  get version(): number {
    return this.bytes[this.offset] >> 4;
  }
  /** Header length in bytes, options included (20..60). */
  get headerLength(): number {
    return (this.bytes[this.offset] & 0x0f) * 4;
  }
  /** The whole ToS byte (DSCP and ECN). */
  get tos(): number {
    return this.bytes[this.offset + Ipv4Field.TOS];
  }
  /** Differentiated Services Code Point. */
  get dscp(): number {
    return this.bytes[this.offset + Ipv4Field.TOS] >> 2;
  }
  /** Explicit Congestion Notification bits. */
  get ecn(): number {
    return this.bytes[this.offset + Ipv4Field.TOS] & 3;
  }
  /** Total length: header plus payload, in bytes. */
  get totalLength(): number {
    return readU16(this.bytes, this.offset + Ipv4Field.TOTAL_LENGTH);
  }
  /** The packet's length (same as `totalLength`). */
  get length(): number {
    return this.totalLength;
  }
  /** Identification field. */
  get identification(): number {
    return readU16(this.bytes, this.offset + Ipv4Field.IDENTIFICATION);
  }
  /** Don't Fragment flag. */
  get dontFragment(): boolean {
    return (readU16(this.bytes, this.offset + Ipv4Field.FLAGS_FRAGMENT) & Ipv4Flag.DONT_FRAGMENT) !== 0;
  }
  /** More Fragments flag. */
  get moreFragments(): boolean {
    return (readU16(this.bytes, this.offset + Ipv4Field.FLAGS_FRAGMENT) & Ipv4Flag.MORE_FRAGMENTS) !== 0;
  }
  /** Fragment offset in bytes (the field counts 8-byte units). */
  get fragmentOffset(): number {
    return (readU16(this.bytes, this.offset + Ipv4Field.FLAGS_FRAGMENT) & Ipv4Flag.FRAGMENT_OFFSET_MASK) * 8;
  }
  /** Time to live. */
  get ttl(): number {
    return this.bytes[this.offset + Ipv4Field.TTL];
  }
  /** Upper-layer protocol number. */
  get protocol(): number {
    return this.bytes[this.offset + Ipv4Field.PROTOCOL];
  }
  /** Header checksum field. */
  get checksum(): number {
    return readU16(this.bytes, this.offset + Ipv4Field.CHECKSUM);
  }
  /** Source address bytes (a view, not a copy). */
  get source(): Uint8Array {
    const at = this.offset + Ipv4Field.SOURCE;
    return this.bytes.subarray(at, at + 4);
  }
  /** Destination address bytes (a view, not a copy). */
  get destination(): Uint8Array {
    const at = this.offset + Ipv4Field.DESTINATION;
    return this.bytes.subarray(at, at + 4);
  }
  /** Source address as `a.b.c.d`. */
  get sourceAddress(): string {
    return formatIpv4(this.bytes, this.offset + Ipv4Field.SOURCE);
  }
  /** Destination address as `a.b.c.d`. */
  get destinationAddress(): string {
    return formatIpv4(this.bytes, this.offset + Ipv4Field.DESTINATION);
  }
  /** Option bytes (empty without options). */
  get options(): Uint8Array {
    return this.bytes.subarray(this.offset + IPV4_HEADER_LEN, this.offset + this.headerLength);
  }
  /** Where the payload starts in `bytes`. */
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  /** The payload (header excluded, padding beyond the total length excluded). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + this.headerLength, this.offset + this.totalLength);
  }
  /** True when the header checksum verifies. */
  verifyChecksum(): boolean {
    return sumRange(this.bytes, this.offset, this.offset + this.headerLength) === 0xffff;
  }
  /**
   * The pseudo-header sum for this packet's upper layer: addresses, protocol and
   * the payload length (or `l4Length`). Folded, not complemented.
   */
  pseudoHeaderSum(l4Length = this.totalLength - this.headerLength): number {
    checkField(l4Length, 0xffff, 'l4Length');
    return foldSum(ipv4AddressSum(this.bytes, this.offset) + this.protocol + l4Length);
  }

  /** Sets the total length: at least the header length, at most the bytes available. */
  setTotalLength(value: number): void {
    checkField(value, 0xffff, 'totalLength');
    if (value < this.headerLength || value > this.available) {
      throw invalidArgument(`totalLength ${value} outside ${this.headerLength}..${this.available}`);
    }
    writeU16(this.bytes, this.offset + Ipv4Field.TOTAL_LENGTH, value);
  }
  /** Sets the identification field. */
  setIdentification(value: number): void {
    checkField(value, 0xffff, 'identification');
    writeU16(this.bytes, this.offset + Ipv4Field.IDENTIFICATION, value);
  }
  /** Sets the time to live. */
  setTtl(value: number): void {
    checkField(value, 0xff, 'ttl');
    this.bytes[this.offset + Ipv4Field.TTL] = value;
  }
  /** Sets the header checksum field as given. */
  setChecksum(value: number): void {
    checkField(value, 0xffff, 'checksum');
    writeU16(this.bytes, this.offset + Ipv4Field.CHECKSUM, value);
  }
  /** Computes the header checksum and stores it. */
  fillChecksum(): void {
    writeIpv4HeaderChecksum(this.bytes, this.offset);
  }
}

/**
 * Recomputes the header checksum of the IPv4 header at `offset` (its IHL must be
 * valid). No checks; used by split and GRO on headers they have validated.
 */
export function writeIpv4HeaderChecksum(bytes: Uint8Array, offset: number): void {
  bytes[offset + Ipv4Field.CHECKSUM] = 0;
  bytes[offset + Ipv4Field.CHECKSUM + 1] = 0;
  const sum = sumRange(bytes, offset, offset + (bytes[offset] & 0x0f) * 4);
  writeU16(bytes, offset + Ipv4Field.CHECKSUM, ~sum & 0xffff);
}
