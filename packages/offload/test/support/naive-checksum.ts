/**
 * RFC 1071 taken literally: 16-bit big-endian words added one at a time with
 * end-around carry, an odd last byte padded with zero. The reference every fast
 * sum in this package is checked against.
 */

/** The one's complement sum of `bytes[start, end)` (folded, not complemented), word by word. */
export function naiveSum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) {
    const word = (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
    sum += word;
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return sum;
}

/** The Internet checksum of `bytes[start, end)` (the complement of {@link naiveSum}). */
export function naiveChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return ~naiveSum(bytes, start, end) & 0xffff;
}

/** The one's complement sum of several 16-bit values, each folded in with end-around carry. */
export function naiveAdd(...words: number[]): number {
  let sum = 0;
  for (const w of words) {
    sum += w;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  return sum;
}
