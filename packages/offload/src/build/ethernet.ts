/** Frame builder for Ethernet II (what a TAP device reads and writes). */
import { checkField } from '../argument-checks.js';
import { invalidArgument } from '../error-codes.js';
import { writeU16 } from '../wire/big-endian.js';
import { ETHERNET_HEADER_LEN, EthernetField, EtherType } from '../wire/ethernet.js';

/** What {@link buildEthernetFrame} puts in the frame. */
export interface EthernetFrameOptions {
  /** Destination MAC: `xx:xx:xx:xx:xx:xx` or 6 bytes. */
  dst: string | Uint8Array;
  /** Source MAC: `xx:xx:xx:xx:xx:xx` or 6 bytes. */
  src: string | Uint8Array;
  /** EtherType (default: IPv4 or IPv6 from the payload's version nibble, else IPv4). */
  etherType?: number;
  /** The payload (an IP packet, usually). */
  payload: Uint8Array;
}

/** Parses `xx:xx:xx:xx:xx:xx` into 6 bytes; throws ERR_TUN_INVALID_ARGUMENT otherwise. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw invalidArgument(`not a MAC address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

function mac(value: string | Uint8Array, what: string): Uint8Array {
  const bytes = typeof value === 'string' ? parseMac(value) : value;
  if (bytes.length !== 6) throw invalidArgument(`${what} must be 6 bytes`);
  return bytes;
}

/** Builds an Ethernet II frame around `payload`. */
export function buildEthernetFrame(options: EthernetFrameOptions): Uint8Array {
  const payload = options.payload;
  const etherType = options.etherType ?? (payload.length > 0 && payload[0] >> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4);
  checkField(etherType, 0xffff, 'etherType');
  const frame = new Uint8Array(ETHERNET_HEADER_LEN + payload.length);
  frame.set(mac(options.dst, 'dst'), EthernetField.DESTINATION);
  frame.set(mac(options.src, 'src'), EthernetField.SOURCE);
  writeU16(frame, EthernetField.ETHER_TYPE, etherType);
  frame.set(payload, ETHERNET_HEADER_LEN);
  return frame;
}
