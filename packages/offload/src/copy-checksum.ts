/**
 * Copying byte ranges between Uint8Arrays without allocating, optionally summing
 * the copied bytes on the way.
 *
 * Native copies are 3-4x faster than any JavaScript loop here (memcpy 10+ GB/s
 * against ~3 GB/s for a loop over 32-bit words, whose stores dominate), except
 * with shared memory at offsets that differ modulo 8, where V8 copies byte by
 * byte (~2 GB/s, slower than the loop). So:
 * - within one buffer, `copyWithin` on a cached whole-buffer view (memmove),
 *   unless that is the slow case and the ranges do not overlap;
 * - across buffers, from {@link NATIVE_COPY} bytes up and not the slow case,
 *   `set` from a cached view
 *   of exactly the source range (range-views.ts: the ranges a split or GRO
 *   copies repeat, so steady traffic allocates nothing), then, for a sum, one
 *   pass of the checksum loop over the copy (still in cache): about 2x faster
 *   than copying and summing in one JavaScript loop (measured: 64 KB split
 *   into 44 segments, 26 us fused, see bench/offload/BENCHMARKS.md);
 * - otherwise a loop over 32-bit words fused with the
 *   checksum, through cached Uint32Arrays when source and destination share
 *   their alignment modulo 4, through cached DataViews otherwise.
 */
import { viewsOf, type BufferViews } from './buffer-views.js';
import { foldSum, sumRange } from './checksum.js';
import { HOST_LITTLE_ENDIAN } from './host-endian.js';
import { rangeView } from './range-views.js';

/** Below this many bytes a plain byte loop beats the DataView loop. */
const SMALL_COPY = 32;
/** From this many bytes on, copies across buffers go through native `set`. */
export const NATIVE_COPY = 256;

/**
 * True when a native copy from absolute offset `p` of one buffer to `q` of
 * another (or the same) runs at memcpy speed: always between ordinary
 * buffers; with shared memory only when the offsets agree modulo 8.
 */
function nativeIsFast(a: BufferViews, b: BufferViews, p: number, q: number): boolean {
  return ((p ^ q) & 7) === 0 || (!a.shared && !b.shared);
}

/**
 * Copies `src[srcStart, srcStart + length)` to `dst[dstStart, dstStart + length)`.
 * Overlapping ranges in one buffer behave like memmove. No range checks: callers
 * validate. Allocates nothing.
 */
export function copyBytes(src: Uint8Array, srcStart: number, dst: Uint8Array, dstStart: number, length: number): void {
  const srcViews = viewsOf(src);
  const dstViews = src === dst ? srcViews : viewsOf(dst);
  let p = src.byteOffset + srcStart;
  let q = dst.byteOffset + dstStart;
  if (srcViews === dstViews) {
    // One buffer (the ranges may overlap): native memmove, unless that would go
    // byte by byte (shared memory, misaligned) and the ranges are apart.
    if (length < NATIVE_COPY || nativeIsFast(srcViews, dstViews, p, q) || (p < q ? q - p : p - q) < length) {
      dstViews.bytes.copyWithin(q, p, p + length);
      return;
    }
  } else {
    if (length < SMALL_COPY) {
      for (let i = 0; i < length; i++) dst[dstStart + i] = src[srcStart + i];
      return;
    }
    if (length >= NATIVE_COPY && nativeIsFast(srcViews, dstViews, p, q)) {
      dstViews.bytes.set(rangeView(srcViews, p, length), q);
      return;
    }
  }
  const sv = srcViews.data;
  const dv = dstViews.data;
  const stop = p + length;
  const blockStop = p + (length & ~15);
  for (; p < blockStop; p += 16, q += 16) {
    dv.setUint32(q, sv.getUint32(p, true), true);
    dv.setUint32(q + 4, sv.getUint32(p + 4, true), true);
    dv.setUint32(q + 8, sv.getUint32(p + 8, true), true);
    dv.setUint32(q + 12, sv.getUint32(p + 12, true), true);
  }
  for (; p < stop; p++, q++) dv.setUint8(q, sv.getUint8(p));
}

/**
 * Copies like {@link copyBytes} and returns the folded one's complement sum of
 * the copied bytes (words paired from `srcStart`, network order), as
 * `sumRange(src, srcStart, srcStart + length)` would. Allocates nothing.
 */
export function copyAndSum(src: Uint8Array, srcStart: number, dst: Uint8Array, dstStart: number, length: number): number {
  if (length < SMALL_COPY || src === dst) {
    copyBytes(src, srcStart, dst, dstStart, length);
    // Sum the destination: identical bytes, and safe when the ranges overlapped.
    return sumRange(dst, dstStart, dstStart + length);
  }
  const srcViews = viewsOf(src);
  const dstViews = viewsOf(dst);
  if (srcViews === dstViews) {
    copyBytes(src, srcStart, dst, dstStart, length);
    return sumRange(dst, dstStart, dstStart + length);
  }
  let p = src.byteOffset + srcStart;
  let q = dst.byteOffset + dstStart;
  if (length >= NATIVE_COPY && nativeIsFast(srcViews, dstViews, p, q)) {
    dstViews.bytes.set(rangeView(srcViews, p, length), q);
    return sumRange(dst, dstStart, dstStart + length);
  }
  if ((p & 3) === (q & 3) && p + length <= srcViews.words.length * 4 && q + length <= dstViews.words.length * 4) {
    return copyAndSumAligned(src, srcStart, srcViews.words, dst, dstStart, dstViews.words, length);
  }
  const sv = srcViews.data;
  const dv = dstViews.data;
  const stop = p + length;
  // Little-endian lanes relative to srcStart, as in sumRange; swapped at the end.
  let total = 0;
  while (stop - p >= 16) {
    const blockStop = p + Math.min((stop - p) & ~15, 4 * 1024 * 1024);
    let s0 = 0;
    let s1 = 0;
    for (; p < blockStop; p += 16, q += 16) {
      const w0 = sv.getUint32(p, true);
      const w1 = sv.getUint32(p + 4, true);
      const w2 = sv.getUint32(p + 8, true);
      const w3 = sv.getUint32(p + 12, true);
      dv.setUint32(q, w0, true);
      dv.setUint32(q + 4, w1, true);
      dv.setUint32(q + 8, w2, true);
      dv.setUint32(q + 12, w3, true);
      s0 += w0 + w2;
      s1 += w1 + w3;
    }
    let t = total + s0 + s1; // folded inline: no heap numbers (see sumRange)
    while (t > 0xffff) t = (t & 0xffff) + Math.floor(t / 65536);
    total = t;
  }
  for (; stop - p >= 4; p += 4, q += 4) {
    const w = sv.getUint32(p, true);
    dv.setUint32(q, w, true);
    total += w;
  }
  const left = stop - p;
  if (left > 0) {
    const b = sv.getUint8(p);
    dv.setUint8(q, b);
    total += b;
  }
  if (left > 1) {
    const b = sv.getUint8(p + 1);
    dv.setUint8(q + 1, b);
    total += b << 8;
  }
  if (left > 2) {
    const b = sv.getUint8(p + 2);
    dv.setUint8(q + 2, b);
    total += b;
  }
  while (total > 0xffff) total = (total & 0xffff) + Math.floor(total / 65536);
  return ((total & 0xff) << 8) | (total >>> 8);
}

/**
 * {@link copyAndSum} when source and destination sit at the same address modulo
 * 4: whole 32-bit words through Uint32Arrays (faster than DataView stores),
 * 0..3 bytes before and after by hand. `length` >= 32.
 */
function copyAndSumAligned(
  src: Uint8Array,
  srcStart: number,
  sw: Uint32Array,
  dst: Uint8Array,
  dstStart: number,
  dw: Uint32Array,
  length: number,
): number {
  const srcAbs = src.byteOffset + srcStart;
  const head = (4 - (srcAbs & 3)) & 3;
  // Head bytes in network lanes: even distance from srcStart is the high byte.
  let headSum = 0;
  for (let k = 0; k < head; k++) {
    const b = src[srcStart + k];
    dst[dstStart + k] = b;
    headSum += (k & 1) === 0 ? b << 8 : b;
  }
  let p = (srcAbs + head) >>> 2;
  let q = (dst.byteOffset + dstStart + head) >>> 2;
  const words = (length - head) >>> 2;
  const stop = p + words;
  let body = 0;
  while (stop - p >= 4) {
    const blockStop = p + Math.min((stop - p) & ~3, 1024 * 1024);
    let s0 = 0;
    let s1 = 0;
    for (; p < blockStop; p += 4, q += 4) {
      const w0 = sw[p];
      const w1 = sw[p + 1];
      const w2 = sw[p + 2];
      const w3 = sw[p + 3];
      dw[q] = w0;
      dw[q + 1] = w1;
      dw[q + 2] = w2;
      dw[q + 3] = w3;
      s0 += w0 + w2;
      s1 += w1 + w3;
    }
    let t = body + s0 + s1;
    while (t > 0xffff) t = (t & 0xffff) + Math.floor(t / 65536);
    body = t;
  }
  for (; p < stop; p++, q++) {
    const w = sw[p];
    dw[q] = w;
    body += w;
  }
  // Host-order words: on a little-endian host the first byte of each word is
  // the low lane. That byte sits at distance `head` from srcStart, which is a
  // high (network) lane when `head` is even: then the folded sum is swapped.
  while (body > 0xffff) body = (body & 0xffff) + Math.floor(body / 65536);
  let bodySum = body;
  if (HOST_LITTLE_ENDIAN === ((head & 1) === 0)) bodySum = ((bodySum & 0xff) << 8) | (bodySum >>> 8);
  let tailSum = 0;
  for (let k = head + words * 4; k < length; k++) {
    const b = src[srcStart + k];
    dst[dstStart + k] = b;
    tailSum += (k & 1) === 0 ? b << 8 : b;
  }
  return foldSum(headSum + bodySum + tailSum);
}
