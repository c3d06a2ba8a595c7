/**
 * One `DataView`, one whole-buffer `Uint8Array` and one `Uint32Array` per
 * `ArrayBuffer` (or `SharedArrayBuffer`), created the first time the buffer is
 * seen and reused after that, so the checksum and copy loops can read and write
 * any byte range without allocating a view per call.
 *
 * Lookups are keyed by the Uint8Array object, not by its buffer: reading
 * `.buffer` costs about 25 ns in V8, a WeakMap lookup about 11 ns, and an
 * identity compare nothing. So: a two-entry "last used" cache (the hot loops
 * alternate between an input and an output array), then a WeakMap from array to
 * views, and only for an array never seen before, `.buffer` and a WeakMap from
 * buffer to views (arrays sharing a buffer share the views). Weak maps let
 * arrays, buffers and views be collected together. The DataView and the
 * Uint8Array are length-tracking on a resizable buffer.
 */

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
}

const viewsByBuffer = new WeakMap<ArrayBufferLike, BufferViews>();
const viewsByArray = new WeakMap<Uint8Array, BufferViews>();
let lastArrayA: Uint8Array | undefined;
let lastViewsA: BufferViews | undefined;
let lastArrayB: Uint8Array | undefined;
let lastViewsB: BufferViews | undefined;

function viewsOfBuffer(buffer: ArrayBufferLike): BufferViews {
  let views = viewsByBuffer.get(buffer);
  if (views === undefined) {
    views = {
      data: new DataView(buffer),
      bytes: new Uint8Array(buffer),
      words: new Uint32Array(buffer, 0, buffer.byteLength >>> 2),
    };
    viewsByBuffer.set(buffer, views);
  }
  return views;
}

/** The cached views of the buffer behind `bytes` (index them with `bytes.byteOffset + i`). */
export function viewsOf(bytes: Uint8Array): BufferViews {
  if (bytes === lastArrayA) return lastViewsA!;
  let views: BufferViews | undefined;
  if (bytes === lastArrayB) {
    views = lastViewsB!;
  } else {
    views = viewsByArray.get(bytes);
    if (views === undefined) {
      views = viewsOfBuffer(bytes.buffer);
      viewsByArray.set(bytes, views);
    }
  }
  lastArrayB = lastArrayA;
  lastViewsB = lastViewsA;
  lastArrayA = bytes;
  lastViewsA = views;
  return views;
}

/** A DataView over the whole buffer behind `bytes`. */
export function dataViewOf(bytes: Uint8Array): DataView {
  return viewsOf(bytes).data;
}

