/**
 * IP and MAC addresses: strict parsing and canonical formatting.
 *
 * Parsers walk the string by character code (no regular expressions, no split) and
 * can write into a caller's buffer, so that building a netlink message allocates
 * nothing but the message. Accepted forms:
 *
 * - IPv4: dotted quad, four decimal octets 0..255 without leading zeros
 *   (`198.18.0.1`; not `198.018.0.1`, not `3321298945`, not `198.18.1`).
 * - IPv6: every text form of RFC 4291 section 2.2: eight groups of 1..4 hex digits,
 *   `::` for one or more zero groups (once), a trailing dotted quad
 *   (`::ffff:198.18.0.1`). Zone ids (`fe80::1%eth0`) are rejected: a zone is not
 *   part of an address the kernel can store.
 * - MAC: six octets of two hex digits separated by `:` (`02:00:5e:10:00:01`).
 *
 * Formatting is canonical: RFC 5952 for IPv6 (lower case, no leading zeros, the
 * longest run of two or more zero groups shortened to `::`, the first on a tie,
 * IPv4-mapped addresses as `::ffff:a.b.c.d`), lower case for MAC.
 *
 * Invalid input throws TunError `ERR_TUN_INVALID_ADDRESS`, `ERR_TUN_INVALID_PREFIX`
 * or `ERR_TUN_INVALID_MAC`.
 */
import { TunError } from '@tunpipe/offload';

/** An address family as tunpipe spells it. */
export type IpFamily = 4 | 6;

/** A parsed IP address: its family and its bytes in network order (4 or 16). */
export interface IpAddress {
  family: IpFamily;
  bytes: Uint8Array;
}

/** A parsed CIDR block such as `198.18.0.0/15`. */
export interface Cidr {
  family: IpFamily;
  /** The address as written (host bits are kept; see `hasHostBits`). */
  bytes: Uint8Array;
  /** Prefix length, 0..32 or 0..128. */
  prefix: number;
}

/** Bytes of an IPv4 address. */
export const IPV4_LENGTH = 4;
/** Bytes of an IPv6 address. */
export const IPV6_LENGTH = 16;
/** Bytes of an Ethernet (MAC) address. */
export const MAC_LENGTH = 6;

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_DOT = 0x2e;
const CH_COLON = 0x3a;

/**
 * True when `n` bytes fit in `out` at `offset`: a non-negative integer (a typed
 * array silently drops writes at -1, 1.5 or NaN, and `'2' + octet` is `'20'`).
 */
function fits(out: Uint8Array, offset: number, n: number): boolean {
  return Number.isInteger(offset) && offset >= 0 && out.length >= offset + n;
}

function invalidAddress(text: unknown, what: string): TunError {
  return new TunError('ERR_TUN_INVALID_ADDRESS', `invalid ${what} address: ${show(text)}`);
}

/** The input, quoted and cut short, for error messages. */
function show(value: unknown): string {
  if (typeof value !== 'string') return `(${typeof value})`;
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
}

function hexValue(c: number): number {
  if (c >= CH_0 && c <= CH_9) return c - CH_0;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Parses the dotted quad in `text[start, end)` into `out[offset..offset+4)`.
 * Returns false (having possibly written part of `out`) when it is not one.
 */
function readIPv4(text: string, start: number, end: number, out: Uint8Array, offset: number): boolean {
  let i = start;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= end || text.charCodeAt(i) !== CH_DOT) return false;
      i++;
    }
    const first = i;
    let value = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < CH_0 || c > CH_9) break;
      value = value * 10 + (c - CH_0);
      i++;
      if (i - first > 3) return false;
    }
    const digits = i - first;
    if (digits === 0 || value > 255) return false;
    if (digits > 1 && text.charCodeAt(first) === CH_0) return false; // leading zero
    out[offset + octet] = value;
  }
  return i === end;
}

/**
 * Parses an IPv4 dotted quad. Writes into `out` at `offset` when given (and returns
 * `out`), else returns a new 4-byte array.
 */
export function parseIPv4(text: string, out?: Uint8Array, offset = 0): Uint8Array {
  if (typeof text !== 'string') throw invalidAddress(text, 'IPv4');
  const target = out ?? new Uint8Array(IPV4_LENGTH);
  if (!fits(target, offset, IPV4_LENGTH) || !readIPv4(text, 0, text.length, target, offset)) {
    throw invalidAddress(text, 'IPv4');
  }
  return target;
}

/** Parses `text` as IPv6 into `out[offset..offset+16)`; false when it is not one. */
function readIPv6(text: string, out: Uint8Array, offset: number): boolean {
  const n = text.length;
  let i = 0;
  let groups = 0; // groups written so far (an embedded IPv4 counts as two)
  let gap = -1; // group index where `::` stands
  if (n >= 2 && text.charCodeAt(0) === CH_COLON) {
    if (text.charCodeAt(1) !== CH_COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const first = i;
    let value = 0;
    while (i < n && i - first < 4) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      i++;
    }
    if (i < n && text.charCodeAt(i) === CH_DOT) {
      // A trailing dotted quad standing for the last two groups.
      if (groups > 6 || !readIPv4(text, first, n, out, offset + groups * 2)) return false;
      groups += 2;
      i = n;
      break;
    }
    if (i === first || groups === 8) return false;
    out[offset + groups * 2] = value >> 8;
    out[offset + groups * 2 + 1] = value & 0xff;
    groups++;
    if (i === n) break;
    if (text.charCodeAt(i) !== CH_COLON) return false;
    i++;
    if (i < n && text.charCodeAt(i) === CH_COLON) {
      if (gap >= 0) return false; // a second `::`
      gap = groups;
      i++;
    } else if (i === n) {
      return false; // a single trailing colon
    }
  }
  if (gap < 0) return groups === 8;
  if (groups > 7) return false; // `::` must stand for at least one group
  const tail = (groups - gap) * 2;
  const from = offset + gap * 2;
  const to = offset + IPV6_LENGTH - tail;
  out.copyWithin(to, from, from + tail);
  out.fill(0, from, to);
  return true;
}

/**
 * Parses an IPv6 address (any RFC 4291 text form, no zone). Writes into `out` at
 * `offset` when given (and returns `out`), else returns a new 16-byte array.
 */
export function parseIPv6(text: string, out?: Uint8Array, offset = 0): Uint8Array {
  if (typeof text !== 'string') throw invalidAddress(text, 'IPv6');
  const target = out ?? new Uint8Array(IPV6_LENGTH);
  if (!fits(target, offset, IPV6_LENGTH) || !readIPv6(text, target, offset)) {
    throw invalidAddress(text, 'IPv6');
  }
  return target;
}

/** Parses an IPv4 or IPv6 address; the family follows the text (a `:` means IPv6). */
export function parseIp(text: string): IpAddress {
  if (typeof text !== 'string') throw invalidAddress(text, 'IP');
  if (text.includes(':')) {
    const bytes = new Uint8Array(IPV6_LENGTH);
    if (!readIPv6(text, bytes, 0)) throw invalidAddress(text, 'IP');
    return { family: 6, bytes };
  }
  const bytes = new Uint8Array(IPV4_LENGTH);
  if (!readIPv4(text, 0, text.length, bytes, 0)) throw invalidAddress(text, 'IP');
  return { family: 4, bytes };
}

/** The family of an address string (4 or 6), or `null` when it is neither. */
export function ipFamily(text: string): IpFamily | null {
  if (typeof text !== 'string') return null;
  const scratch = new Uint8Array(IPV6_LENGTH);
  if (text.includes(':')) return readIPv6(text, scratch, 0) ? 6 : null;
  return readIPv4(text, 0, text.length, scratch, 0) ? 4 : null;
}

/** Formats 4 bytes at `offset` as a dotted quad. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  if (bytes.length < offset + IPV4_LENGTH) throw invalidAddress('', 'IPv4 (short buffer)');
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Formats 16 bytes at `offset` in RFC 5952 canonical form. */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  if (bytes.length < offset + IPV6_LENGTH) throw invalidAddress('', 'IPv6 (short buffer)');
  // IPv4-mapped (::ffff:0:0/96): RFC 5952 section 5 recommends the dotted tail.
  let mapped = bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff;
  for (let k = 0; mapped && k < 10; k++) if (bytes[offset + k] !== 0) mapped = false;
  if (mapped) return `::ffff:${formatIPv4(bytes, offset + 12)}`;

  // The longest run of at least two zero groups; the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && bytes[offset + g * 2] === 0 && bytes[offset + g * 2 + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLength) {
        bestStart = runStart;
        bestLength = g - runStart;
      }
      runStart = -1;
    }
  }
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += '::';
      g += bestLength - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += ((bytes[offset + g * 2] << 8) | bytes[offset + g * 2 + 1]).toString(16);
  }
  return text;
}

/** Formats an address of either family (4 or 16 bytes from `offset`). */
export function formatIp(family: IpFamily, bytes: Uint8Array, offset = 0): string {
  return family === 4 ? formatIPv4(bytes, offset) : formatIPv6(bytes, offset);
}

/** The longest prefix a family allows: 32 or 128. */
export function maxPrefix(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Throws ERR_TUN_INVALID_PREFIX unless `prefix` is an integer in 0..32 (IPv4) or 0..128 (IPv6). */
export function checkPrefix(prefix: number, family: IpFamily): number {
  if (typeof prefix !== 'number' || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix(family)) {
    throw new TunError(
      'ERR_TUN_INVALID_PREFIX',
      `invalid IPv${family} prefix length: ${typeof prefix === 'number' ? prefix : show(prefix)} (0..${maxPrefix(family)})`,
    );
  }
  return prefix;
}

/**
 * The prefix length of a contiguous IPv4 netmask (`255.255.255.0` -> 24). A mask
 * that does not parse, or whose one bits are not contiguous from the top, throws
 * ERR_TUN_INVALID_ADDRESS.
 */
export function netmaskToPrefix(netmask: string): number {
  const b = parseIPv4(netmask);
  const mask = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const inverted = ~mask >>> 0;
  // Contiguous iff the host part is 2^k - 1.
  if ((inverted & (inverted + 1)) !== 0) {
    throw new TunError('ERR_TUN_INVALID_ADDRESS', `netmask is not contiguous: ${show(netmask)}`);
  }
  return Math.clz32(inverted);
}

/** The IPv4 netmask of a prefix length (24 -> `255.255.255.0`). */
export function prefixToNetmask(prefix: number): string {
  checkPrefix(prefix, 4);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return `${mask >>> 24}.${(mask >>> 16) & 0xff}.${(mask >>> 8) & 0xff}.${mask & 0xff}`;
}

/**
 * Parses `address/prefix` (`198.18.0.0/15`, `fd00::/8`). The prefix is decimal,
 * without sign or leading zeros, within the family's bounds.
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw invalidAddress(text, 'CIDR');
  const slash = text.indexOf('/');
  if (slash < 0) throw new TunError('ERR_TUN_INVALID_PREFIX', `CIDR needs a /prefix: ${show(text)}`);
  const { family, bytes } = parseIp(text.slice(0, slash));
  const digits = text.slice(slash + 1);
  let prefix = -1;
  if (digits.length > 0 && digits.length <= 3 && !(digits.length > 1 && digits.charCodeAt(0) === CH_0)) {
    prefix = 0;
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (c < CH_0 || c > CH_9) {
        prefix = -1;
        break;
      }
      prefix = prefix * 10 + (c - CH_0);
    }
  }
  if (prefix < 0 || prefix > maxPrefix(family)) {
    throw new TunError('ERR_TUN_INVALID_PREFIX', `invalid prefix in CIDR ${show(text)} (0..${maxPrefix(family)})`);
  }
  return { family, bytes, prefix };
}

/** Formats a CIDR block (`198.18.0.0/15`). */
export function formatCidr(family: IpFamily, bytes: Uint8Array, prefix: number): string {
  return `${formatIp(family, bytes)}/${prefix}`;
}

/** True when `bytes` has any bit set past the first `prefix` bits. */
export function hasHostBits(bytes: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3] & (0x80 >> (bit & 7))) !== 0) return true;
  }
  return false;
}

/** A copy of `bytes` with every bit past the first `prefix` bits cleared (the network address). */
export function networkAddress(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/** A copy of an IPv4 address with every host bit set: the broadcast address of its prefix. */
export function broadcastAddress(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] |= 0x80 >> (bit & 7);
  return out;
}

function invalidMac(text: unknown): TunError {
  return new TunError('ERR_TUN_INVALID_MAC', `invalid MAC address: ${show(text)} (expected xx:xx:xx:xx:xx:xx)`);
}

/**
 * Parses `xx:xx:xx:xx:xx:xx` (hex, either case). Writes into `out` at `offset` when
 * given (and returns `out`), else returns a new 6-byte array. Multicast and all-zero
 * addresses parse; see `isMulticastMac` / `isUnicastMac`.
 */
export function parseMac(text: string, out?: Uint8Array, offset = 0): Uint8Array {
  if (typeof text !== 'string' || text.length !== 17) throw invalidMac(text);
  const target = out ?? new Uint8Array(MAC_LENGTH);
  if (!fits(target, offset, MAC_LENGTH)) throw invalidMac(text);
  for (let k = 0; k < MAC_LENGTH; k++) {
    const hi = hexValue(text.charCodeAt(k * 3));
    const lo = hexValue(text.charCodeAt(k * 3 + 1));
    if (hi < 0 || lo < 0 || (k < 5 && text.charCodeAt(k * 3 + 2) !== CH_COLON)) throw invalidMac(text);
    target[offset + k] = (hi << 4) | lo;
  }
  return target;
}

/** Formats 6 bytes at `offset` as `xx:xx:xx:xx:xx:xx` (lower case). */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  if (bytes.length < offset + MAC_LENGTH) throw invalidMac('(short buffer)');
  let text = '';
  for (let k = 0; k < MAC_LENGTH; k++) {
    const b = bytes[offset + k];
    text += (k === 0 ? '' : ':') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return text;
}

/** True when the group bit (the lowest bit of the first octet) is set: multicast or broadcast. */
export function isMulticastMac(bytes: Uint8Array, offset = 0): boolean {
  return (bytes[offset] & 1) === 1;
}

/** True for an address a device can take: not multicast, not all zeros (the kernel's is_valid_ether_addr). */
export function isUnicastMac(bytes: Uint8Array, offset = 0): boolean {
  if (isMulticastMac(bytes, offset)) return false;
  for (let k = 0; k < MAC_LENGTH; k++) if (bytes[offset + k] !== 0) return true;
  return false;
}
