/**
 * IPv6 fixed header (RFC 8200 section 3; `struct ipv6hdr`, <linux/ipv6.h>):
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Source Address (16 bytes)                  |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Destination Address (16 bytes)                | 24
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * The payload length counts everything after the fixed header, extension
 * headers included.
 */
import { checkField, checkViewBounds } from '../argument-checks.js';
import { foldSum, ipv6AddressSum } from '../checksum.js';
import { invalidArgument, malformedPacket } from '../error-codes.js';
import { readU16, writeU16 } from './big-endian.js';
import { formatIpv6 } from './ip-address.js';
import { findIpv6UpperLayer, type Ipv6UpperLayer } from './ipv6-extension.js';

/** Byte offsets of the IPv6 fixed header fields. */
export const Ipv6Field = {
  /** u32: version (4 bits), traffic class (8 bits), flow label (20 bits). */
  VERSION_TC_FLOW: 0,
  /** u16: length of everything after the fixed header. */
  PAYLOAD_LENGTH: 4,
  /** The first extension header or upper-layer protocol ({@link IpProtocol}). */
  NEXT_HEADER: 6,
  /** Hop limit. */
  HOP_LIMIT: 7,
  /** 16 bytes: source address. */
  SOURCE: 8,
  /** 16 bytes: destination address. */
  DESTINATION: 24,
} as const;

/** Length of the IPv6 fixed header. */
export const IPV6_HEADER_LEN = 40;

/**
 * A zero-copy view of an IPv6 packet. The constructor checks the version and
 * that the payload length fits the bytes; after it, no getter can fail.
 * Extension headers are not parsed by the constructor; {@link upperLayer} walks them.
 */
export class Ipv6Packet {
  /** The bytes the view reads and writes (never copied). */
  readonly bytes: Uint8Array;
  /** Where the IPv6 header starts in `bytes`. */
  readonly offset: number;
  /** Bytes available from `offset` (the packet may be shorter: link-layer padding). */
  readonly available: number;

  /**
   * Checked constructor: throws ERR_TUN_MALFORMED_PACKET unless `bytes[offset,
   * offset + length)` starts with an IPv6 header whose payload fits.
   */
  constructor(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
    checkViewBounds(bytes, offset, length, 'Ipv6Packet');
    if (length < IPV6_HEADER_LEN) throw malformedPacket('IPv6 packet', `${length} bytes, the header needs 40`);
    const version = bytes[offset] >> 4;
    if (version !== 6) throw malformedPacket('IPv6 packet', `version ${version}`);
    const payloadLength = readU16(bytes, offset + Ipv6Field.PAYLOAD_LENGTH);
    if (IPV6_HEADER_LEN + payloadLength > length) {
      throw malformedPacket('IPv6 packet', `payload length ${payloadLength} > ${length - IPV6_HEADER_LEN} bytes`);
    }
    this.bytes = bytes;
    this.offset = offset;
    this.available = length;
  }

  /** IP version (always 6). */
  get version(): number {
    return this.bytes[this.offset] >> 4;
  }
  /** Traffic class (DSCP and ECN). */
  get trafficClass(): number {
    return ((this.bytes[this.offset] & 0x0f) << 4) | (this.bytes[this.offset + 1] >> 4);
  }
  /** Flow label (20 bits). */
  get flowLabel(): number {
    const b = this.bytes;
    const o = this.offset;
    return ((b[o + 1] & 0x0f) << 16) | (b[o + 2] << 8) | b[o + 3];
  }
  /** Payload length: everything after the fixed header. */
  get payloadLength(): number {
    return readU16(this.bytes, this.offset + Ipv6Field.PAYLOAD_LENGTH);
  }
  /** The packet's length: 40 plus the payload length. */
  get length(): number {
    return IPV6_HEADER_LEN + this.payloadLength;
  }
  /** Next header: the first extension header or the upper-layer protocol. */
  get nextHeader(): number {
    return this.bytes[this.offset + Ipv6Field.NEXT_HEADER];
  }
  /** Hop limit. */
  get hopLimit(): number {
    return this.bytes[this.offset + Ipv6Field.HOP_LIMIT];
  }
  /** Source address bytes (a view). */
  get source(): Uint8Array {
    const at = this.offset + Ipv6Field.SOURCE;
    return this.bytes.subarray(at, at + 16);
  }
  /** Destination address bytes (a view). */
  get destination(): Uint8Array {
    const at = this.offset + Ipv6Field.DESTINATION;
    return this.bytes.subarray(at, at + 16);
  }
  /** Source address in RFC 5952 form. */
  get sourceAddress(): string {
    return formatIpv6(this.bytes, this.offset + Ipv6Field.SOURCE);
  }
  /** Destination address in RFC 5952 form. */
  get destinationAddress(): string {
    return formatIpv6(this.bytes, this.offset + Ipv6Field.DESTINATION);
  }
  /** Where the payload (first extension header or upper layer) starts in `bytes`. */
  get payloadOffset(): number {
    return this.offset + IPV6_HEADER_LEN;
  }
  /** Everything after the fixed header, extension headers included. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + IPV6_HEADER_LEN, this.offset + this.length);
  }
  /**
   * Walks the extension headers (hop-by-hop, routing, destination options, AH)
   * and returns the upper-layer protocol and its offset in `bytes`, or
   * `undefined` when the chain runs past the payload.
   */
  upperLayer(): Ipv6UpperLayer | undefined {
    const out: Ipv6UpperLayer = { protocol: 0, offset: 0 };
    return findIpv6UpperLayer(this.bytes, this.offset, this.length, out) ? out : undefined;
  }
  /** The pseudo-header sum for an upper layer `nextHeader` of `l4Length` bytes. Folded. */
  pseudoHeaderSum(nextHeader: number, l4Length: number): number {
    checkField(nextHeader, 0xff, 'nextHeader');
    checkField(l4Length, 0xffffffff, 'l4Length');
    return foldSum(ipv6AddressSum(this.bytes, this.offset) + Math.floor(l4Length / 65536) + (l4Length & 0xffff) + nextHeader);
  }

  /** Sets the payload length (at most the bytes available after the header). */
  setPayloadLength(value: number): void {
    checkField(value, 0xffff, 'payloadLength');
    if (IPV6_HEADER_LEN + value > this.available) {
      throw invalidArgument(`payloadLength ${value} > ${this.available - IPV6_HEADER_LEN} bytes available`);
    }
    writeU16(this.bytes, this.offset + Ipv6Field.PAYLOAD_LENGTH, value);
  }
  /** Sets the hop limit. */
  setHopLimit(value: number): void {
    checkField(value, 0xff, 'hopLimit');
    this.bytes[this.offset + Ipv6Field.HOP_LIMIT] = value;
  }
}
