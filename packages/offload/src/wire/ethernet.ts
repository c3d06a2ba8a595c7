/**
 * Ethernet II frame header (IEEE 802.3; `struct ethhdr`, <linux/if_ether.h>),
 * as read from and written to a TAP device (no preamble, no FCS):
 *
 * ```
 * 0                 6                 12          14
 * +-----------------+-----------------+-----------+------------
 * | destination MAC |   source MAC    | EtherType | payload ...
 * +-----------------+-----------------+-----------+------------
 * ```
 */
import { checkField, checkViewBounds } from '../argument-checks.js';
import { malformedPacket } from '../error-codes.js';
import { readU16, writeU16 } from './big-endian.js';

/** Byte offsets of the Ethernet header fields. */
export const EthernetField = {
  /** 6 bytes: destination MAC address. */
  DESTINATION: 0,
  /** 6 bytes: source MAC address. */
  SOURCE: 6,
  /** u16: EtherType of the payload ({@link EtherType}). */
  ETHER_TYPE: 12,
  /** Start of the payload. */
  PAYLOAD: 14,
} as const;

/** Length of the Ethernet II header (ETH_HLEN). */
export const ETHERNET_HEADER_LEN = 14;

/** Common EtherType values (ETH_P_*, <linux/if_ether.h>). */
export const EtherType = {
  /** IPv4 (ETH_P_IP). */
  IPV4: 0x0800,
  /** ARP (ETH_P_ARP). */
  ARP: 0x0806,
  /** 802.1Q VLAN tag (ETH_P_8021Q). */
  VLAN: 0x8100,
  /** IPv6 (ETH_P_IPV6). */
  IPV6: 0x86dd,
} as const;

/** Formats 6 bytes at `offset` as `xx:xx:xx:xx:xx:xx`. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(bytes[offset + i].toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** A zero-copy view of an Ethernet II frame. The constructor checks the 14-byte header fits. */
export class EthernetFrame {
  /** The bytes the view reads and writes (never copied). */
  readonly bytes: Uint8Array;
  /** Where the frame starts in `bytes`. */
  readonly offset: number;
  /** Frame length (header and payload). */
  readonly length: number;

  /** Checked constructor: throws ERR_TUN_MALFORMED_PACKET when fewer than 14 bytes are given. */
  constructor(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
    checkViewBounds(bytes, offset, length, 'EthernetFrame');
    if (length < ETHERNET_HEADER_LEN) throw malformedPacket('Ethernet frame', `${length} bytes, the header needs 14`);
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  /** Destination MAC bytes (a view). */
  get destination(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + 6);
  }
  /** Source MAC bytes (a view). */
  get source(): Uint8Array {
    return this.bytes.subarray(this.offset + EthernetField.SOURCE, this.offset + EthernetField.SOURCE + 6);
  }
  /** Destination MAC as `xx:xx:xx:xx:xx:xx`. */
  get destinationMac(): string {
    return formatMac(this.bytes, this.offset);
  }
  /** Source MAC as `xx:xx:xx:xx:xx:xx`. */
  get sourceMac(): string {
    return formatMac(this.bytes, this.offset + EthernetField.SOURCE);
  }
  /** EtherType of the payload. */
  get etherType(): number {
    return readU16(this.bytes, this.offset + EthernetField.ETHER_TYPE);
  }
  /** Where the payload starts in `bytes`. */
  get payloadOffset(): number {
    return this.offset + ETHERNET_HEADER_LEN;
  }
  /** The payload (a view). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset + ETHERNET_HEADER_LEN, this.offset + this.length);
  }

  /** Sets the EtherType. */
  setEtherType(value: number): void {
    checkField(value, 0xffff, 'etherType');
    writeU16(this.bytes, this.offset + EthernetField.ETHER_TYPE, value);
  }
}
