/**
 * Cached fixed views of byte ranges, so a copy between two different buffers
 * can use the native `TypedArray.prototype.set` (memcpy, 10+ GB/s here) instead
 * of a JavaScript word loop (~3 GB/s) without allocating a `subarray` per call.
 *
 * The copies that matter repeat their ranges: a GSO split reads payload i of
 * every superpacket of a flow from the same offset of the same read buffer, GRO
 * reads each packet's payload from the same offset of its buffer. So a view,
 * once made, is found again by (buffer, start, length). Each buffer's table
 * hangs off its cached views (buffer-views.ts), created on the first native
 * copy out of it:
 *
 * ```
 * buffer ─(WeakMap)─► BufferViews ─► ranges: RANGE_SLOTS slots, open addressing
 *                                     probe hash(start, length) + 0..PROBES-1
 *                                     views[slot] (its length) + starts[slot]
 * ```
 *
 * A miss takes the first empty slot of the probe window, else the window's
 * first slot. With the 44 ranges of a 64 KB superpacket (or a few such shapes)
 * in 256 slots every range keeps its own slot.
 *
 * The table lives exactly as long as the buffer (a WeakMap value that refers
 * back to its key does not keep it alive), so nothing is pinned. A miss (first
 * sight, a collision) creates the view, the only allocation; steady traffic hits.
 */
import type { BufferViews } from './buffer-views.js';

/** Slots per buffer (a power of two): the segments of a few superpacket shapes. */
const RANGE_SLOTS = 256;
const MASK = RANGE_SLOTS - 1;
/** Slots looked at per lookup. */
const PROBES = 8;

/** One buffer's cached range views. */
export interface RangeTable {
  /** The view in each slot (its length is the range length). */
  readonly views: Array<Uint8Array | undefined>;
  /** The absolute start offset of each slot's view. */
  readonly starts: Float64Array;
}

function newTable(): RangeTable {
  return { views: new Array<Uint8Array | undefined>(RANGE_SLOTS).fill(undefined), starts: new Float64Array(RANGE_SLOTS) };
}

/**
 * A Uint8Array of exactly `owner.bytes[start, start + length)` (absolute offsets
 * in the buffer behind `owner`), from the buffer's table when it has it. The
 * range must lie inside the buffer: callers validate.
 */
export function rangeView(owner: BufferViews, start: number, length: number): Uint8Array {
  let t = owner.ranges;
  if (t === undefined) {
    t = newTable();
    owner.ranges = t;
  }
  const views = t.views;
  const first = (Math.imul(start ^ Math.imul(length, 0x85ebca6b), 0x9e3779b1) >>> 16) & MASK;
  let free = -1;
  for (let k = 0; k < PROBES; k++) {
    const slot = (first + k) & MASK;
    const v = views[slot];
    if (v === undefined) {
      if (free < 0) free = slot;
    } else if (t.starts[slot] === start && v.length === length) {
      return v;
    }
  }
  const slot = free >= 0 ? free : first;
  const made = owner.bytes.subarray(start, start + length);
  views[slot] = made;
  t.starts[slot] = start;
  return made;
}
