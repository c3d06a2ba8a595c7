/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
 * complement sum of the data taken as big-endian 16-bit words (an odd last byte
 * is padded with a zero byte on the right).
 *
 * Vocabulary used across this package:
 * - a *sum* is the folded one's complement sum, 0..0xffff, not complemented
 *   (what a CHECKSUM_PARTIAL field holds, and what sums combine as);
 * - a *checksum* is `~sum & 0xffff`, the value a header's checksum field holds.
 *
 * Speed: the loop reads 32-bit words through a cached DataView (any alignment,
 * no view allocated per call) and adds 16 of them per iteration into four
 * float64 accumulators. A float64 holds integers exactly up to 2^53, so 32-bit
 * words can be added without carry handling; folding happens once per 4 MiB.
 * Words are read little-endian (measurably faster on x86 than big-endian) and
 * the folded result is byte-swapped, which is exact for one's complement sums
 * (RFC 1071 section 2(B), byte order independence). Measured on this machine:
 * 6-12 GB/s for 1500..65535-byte buffers, see bench/offload/checksum.mjs.
 */
import { dataViewOf } from './buffer-views.js';
import { checkRange } from './argument-checks.js';
import { invalidArgument } from './error-codes.js';

const TWO_POW_16 = 65536;
/** Bytes summed between two folds of the accumulators (keeps every float64 sum exact). */
const FOLD_BLOCK = 4 * 1024 * 1024;

/**
 * Folds a non-negative integer below 2^53 to 16 bits with end-around carry.
 * Zero stays zero; any other value lands in 1..0xffff.
 */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / TWO_POW_16);
  return sum;
}

/**
 * The folded sum of `bytes[start, end)`, words paired from `start`. No range
 * checks: internal callers pass valid ranges. Allocates nothing.
 */
export function sumRange(bytes: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 32) {
    // Short ranges: plain big-endian pairs, cheaper than fetching the DataView.
    let s = 0;
    let i = start;
    const pairsEnd = start + (n & ~1);
    for (; i < pairsEnd; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
    if (i < end) s += bytes[i] << 8;
    return foldSum(s);
  }
  const dv = dataViewOf(bytes);
  let p = bytes.byteOffset + start;
  const stop = p + n;
  // Little-endian lanes from here on: the byte at an even distance from `start`
  // is the low byte of its 16-bit lane; swapped back to network order at the end.
  let total = 0;
  while (stop - p >= 64) {
    const blockEnd = p + Math.min((stop - p) & ~63, FOLD_BLOCK);
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (; p < blockEnd; p += 64) {
      s0 += dv.getUint32(p, true) + dv.getUint32(p + 16, true) + (dv.getUint32(p + 32, true) + dv.getUint32(p + 48, true));
      s1 += dv.getUint32(p + 4, true) + dv.getUint32(p + 20, true) + (dv.getUint32(p + 36, true) + dv.getUint32(p + 52, true));
      s2 += dv.getUint32(p + 8, true) + dv.getUint32(p + 24, true) + (dv.getUint32(p + 40, true) + dv.getUint32(p + 56, true));
      s3 += dv.getUint32(p + 12, true) + dv.getUint32(p + 28, true) + (dv.getUint32(p + 44, true) + dv.getUint32(p + 60, true));
    }
    // Each accumulator stays below 2^50 per block, so their sum is still exact.
    // Folded inline: passing a float64 above 2^31 to a function that V8 does not
    // inline would allocate a heap number.
    let t = total + s0 + s1 + s2 + s3;
    while (t > 0xffff) t = (t & 0xffff) + Math.floor(t / TWO_POW_16);
    total = t;
  }
  for (; stop - p >= 4; p += 4) total += dv.getUint32(p, true);
  // 0..3 bytes left, at distances 0, 1, 2 (mod 4) from a lane boundary.
  const left = stop - p;
  if (left > 0) total += dv.getUint8(p);
  if (left > 1) total += dv.getUint8(p + 1) << 8;
  if (left > 2) total += dv.getUint8(p + 2);
  while (total > 0xffff) total = (total & 0xffff) + Math.floor(total / TWO_POW_16);
  return ((total & 0xff) << 8) | (total >>> 8);
}

/**
 * RFC 1071 one's complement sum of `bytes[start, end)` plus `initial`, folded to
 * 16 bits and not complemented. `initial` is any non-negative integer sum (e.g. a
 * pseudo-header sum). Words pair from `start`. Throws ERR_TUN_INVALID_ARGUMENT
 * for a range outside `bytes`.
 */
export function onesComplementSum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  checkRange(bytes.length, start, end, 'onesComplementSum');
  if (!(Number.isSafeInteger(initial) && initial >= 0)) {
    throw invalidArgument(`onesComplementSum: initial must be a non-negative safe integer, got ${initial}`);
  }
  return foldSum(sumRange(bytes, start, end) + initial);
}

/**
 * The Internet checksum of `bytes[start, end)` with `initial` (e.g. a
 * pseudo-header sum) folded in: the value to store in a checksum field, or 0 when
 * verifying data that already contains its checksum.
 */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return ~onesComplementSum(bytes, start, end, initial) & 0xffff;
}

/** One's complement addition of two sums (each a non-negative integer), folded to 16 bits. */
export function addSums(a: number, b: number): number {
  return foldSum(a + b);
}

/** Sum of the 16-bit words of `bytes[at, at+len)`, len even: a fixed-size field, no DataView. */
function sumWords(bytes: Uint8Array, at: number, len: number): number {
  let s = 0;
  for (let i = at; i < at + len; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
  return s;
}

/**
 * The sum of the IPv4 addresses at `ipOffset + 12..20` (an IPv4 header): the
 * part of the pseudo-header shared by every segment of a flow. Unfolded.
 */
export function ipv4AddressSum(bytes: Uint8Array, ipOffset: number): number {
  return sumWords(bytes, ipOffset + 12, 8);
}

/** The sum of the IPv6 addresses at `ipOffset + 8..40` (an IPv6 header). Unfolded. */
export function ipv6AddressSum(bytes: Uint8Array, ipOffset: number): number {
  return sumWords(bytes, ipOffset + 8, 32);
}

/**
 * The IPv4 pseudo-header sum (RFC 793 section 3.1, RFC 768): source and
 * destination address of the IPv4 header at `ipOffset`, zero, `protocol`, and
 * `l4Length` (the TCP/UDP length). Folded, not complemented.
 *
 * ```
 * +--------+--------+--------+--------+
 * |           Source Address          |
 * +--------+--------+--------+--------+
 * |         Destination Address       |
 * +--------+--------+--------+--------+
 * |  zero  |  PTCL  |    L4 Length    |
 * +--------+--------+--------+--------+
 * ```
 */
export function ipv4PseudoHeaderSum(bytes: Uint8Array, ipOffset: number, protocol: number, l4Length: number): number {
  checkRange(bytes.length, ipOffset, ipOffset + 20, 'ipv4PseudoHeaderSum');
  checkPseudoFields(protocol, l4Length, 0xffff);
  return foldSum(ipv4AddressSum(bytes, ipOffset) + protocol + l4Length);
}

/**
 * The IPv6 pseudo-header sum (RFC 8200 section 8.1): source and destination
 * address of the IPv6 header at `ipOffset`, the 32-bit upper-layer length and
 * the next header value. Folded, not complemented.
 *
 * ```
 * +-----------------------------------+
 * |   Source Address (16 bytes)       |
 * +-----------------------------------+
 * |   Destination Address (16 bytes)  |
 * +--------+--------+--------+--------+
 * |       Upper-Layer Packet Length   |
 * +--------+--------+--------+--------+
 * |           zero           |  Next  |
 * +--------+--------+--------+--------+
 * ```
 */
export function ipv6PseudoHeaderSum(bytes: Uint8Array, ipOffset: number, nextHeader: number, l4Length: number): number {
  checkRange(bytes.length, ipOffset, ipOffset + 40, 'ipv6PseudoHeaderSum');
  checkPseudoFields(nextHeader, l4Length, 0xffffffff);
  return foldSum(ipv6AddressSum(bytes, ipOffset) + Math.floor(l4Length / TWO_POW_16) + (l4Length & 0xffff) + nextHeader);
}

function checkPseudoFields(protocol: number, l4Length: number, maxLength: number): void {
  if (!(Number.isInteger(protocol) && protocol >= 0 && protocol <= 0xff)) {
    throw invalidArgument(`pseudo-header: protocol must be 0..255, got ${protocol}`);
  }
  if (!(Number.isInteger(l4Length) && l4Length >= 0 && l4Length <= maxLength)) {
    throw invalidArgument(`pseudo-header: length must be 0..${maxLength}, got ${l4Length}`);
  }
}

