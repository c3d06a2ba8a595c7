/**
 * One `DataView`, one whole-buffer `Uint8Array` and one `Uint32Array` per
 * `ArrayBuffer` (or `SharedArrayBuffer`), created the first time the buffer is
 * seen and reused after that, so the checksum and copy loops can read and write
 * any byte range without allocating a view per call.
 *
 * Lookup, cheapest first (measured in V8 on Node 20):
 * 1. the last two Uint8Arrays looked up, by identity (free): the hot loops
 *    alternate between one input and one output array;
 * 2. their buffers, compared with `bytes.buffer` (~15-25 ns for the getter):
 *    another view of a known buffer, e.g. the next slot of a ring, or a fresh
 *    `subarray` of a read buffer;
 * 3. a WeakMap from buffer to views (the first view of each buffer creates them).
 * Nothing is stored per Uint8Array: a WeakMap insertion per fresh subarray would
 * cost ~150 ns and grow the map with every call.
 *
 * The DataView and the Uint8Array are length-tracking on a resizable buffer.
 */

import type { RangeTable } from './range-views.js';

/** The cached views of one buffer. */
export interface BufferViews {
  /** DataView over the whole buffer. */
  readonly data: DataView;
  /** Uint8Array over the whole buffer. */
  readonly bytes: Uint8Array;
  /**
   * 32-bit words over the first floor(byteLength / 4) * 4 bytes (host byte
   * order). Fixed length: a resizable buffer that grew later is only partly
   * covered, so users check the word range against `words.length`.
   */
  readonly words: Uint32Array;
  /**
   * True for a SharedArrayBuffer. V8 copies into, out of or within shared
   * memory word by word only when source and destination agree modulo 8, byte
   * by byte (relaxed atomics, ~2 GB/s) otherwise: copy-checksum.ts checks this.
   */
  readonly shared: boolean;
  /** Cached views of byte ranges, made on the first native copy out of this buffer (range-views.ts). */
  ranges: RangeTable | undefined;
}

const viewsByBuffer = new WeakMap<ArrayBufferLike, BufferViews>();

// The two most recent lookups (A is the latest): the array, its buffer, the views.
let arrayA: Uint8Array | undefined;
let bufferA: ArrayBufferLike | undefined;
let viewsA: BufferViews | undefined;
let arrayB: Uint8Array | undefined;
let bufferB: ArrayBufferLike | undefined;
let viewsB: BufferViews | undefined;

function viewsOfBuffer(buffer: ArrayBufferLike): BufferViews {
  if (buffer === bufferA) return viewsA!;
  if (buffer === bufferB) return viewsB!;
  let views = viewsByBuffer.get(buffer);
  if (views === undefined) {
    views = {
      data: new DataView(buffer),
      bytes: new Uint8Array(buffer),
      words: new Uint32Array(buffer, 0, buffer.byteLength >>> 2),
      shared: typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer,
      ranges: undefined,
    };
    viewsByBuffer.set(buffer, views);
  }
  return views;
}

/** The cached views of the buffer behind `bytes` (index them with `bytes.byteOffset + i`). */
export function viewsOf(bytes: Uint8Array): BufferViews {
  if (bytes === arrayA) return viewsA!;
  let buffer: ArrayBufferLike;
  let views: BufferViews;
  if (bytes === arrayB) {
    buffer = bufferB!;
    views = viewsB!;
  } else {
    buffer = bytes.buffer;
    views = viewsOfBuffer(buffer);
  }
  arrayB = arrayA;
  bufferB = bufferA;
  viewsB = viewsA;
  arrayA = bytes;
  bufferA = buffer;
  viewsA = views;
  return views;
}

/**
 * Drops the two most recent lookups, the only strong references the cache holds
 * (the WeakMap holds none), so buffers used last can be freed once nothing else
 * refers to them: a pooled queue thread calls it between queue sets, whose rings
 * would otherwise stay allocated while it idles.
 */
export function forgetRecentViews(): void {
  arrayA = arrayB = undefined;
  bufferA = bufferB = undefined;
  viewsA = viewsB = undefined;
}

/** A DataView over the whole buffer behind `bytes`. */
export function dataViewOf(bytes: Uint8Array): DataView {
  return viewsOf(bytes).data;
}
