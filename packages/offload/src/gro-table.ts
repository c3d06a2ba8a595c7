/**
 * The bookkeeping of one GRO pass, kept between calls so a pass allocates
 * nothing: flows (hashed on their key) and, per flow, the items (packets that
 * later packets may be appended to or prepended to), all in typed arrays.
 *
 * ```
 * buckets[hash & mask] -> flow -> flowNext -> flow ...      (hash chains)
 * flow: kind, hash, keyBuf (a packet carrying the key), head item .. tail item
 * item: bufs index, sequence, length, gso size, header length, merged count,
 *       PSH seen, checksum known bad; linked prev/next within its flow
 * ```
 *
 * The flow key is read from the packets themselves, never copied:
 * addresses and ports, plus the ACK number for TCP (packets acknowledging
 * different data are different flows). Coalescing never changes those bytes.
 *
 * A table is reset at the start of every `handleGro` call; one table serves one
 * caller at a time (one per queue/worker). It grows, once, when a batch has
 * more packets than its capacity.
 */
import { IDEAL_BATCH_SIZE } from './batch-size.js';
import { invalidArgument } from './error-codes.js';

/** Key byte ranges per flow kind, relative to the IP header: [start, end) pairs. */
const KEY_RANGES: readonly (readonly number[])[] = [
  [],
  [12, 24, 28, 32], // TCP4: addresses 12..20, ports 20..24, ACK 28..32
  [8, 44, 48, 52], // TCP6: addresses 8..40, ports 40..44, ACK 48..52
  [12, 24], // UDP4: addresses, ports
  [8, 44], // UDP6: addresses, ports
];

/** Flow and item storage for {@link handleGro}; create one per caller and pass it to every call. */
export class GroTable {
  /** Packets (and so items and flows) one pass can hold before the table grows. */
  capacity = 0;

  /** @internal Number of items in use. */
  itemCount = 0;
  /** @internal bufs index of each item's packet. */
  itemBuf = new Int32Array(0);
  /** @internal Sequence number of each item's first byte (TCP), as int32 (wrapping arithmetic with `| 0`). */
  itemSeq = new Int32Array(0);
  /** @internal Current length of each item's packet. */
  itemLen = new Int32Array(0);
  /** @internal Segment payload size of each item. */
  itemGsoSize = new Int32Array(0);
  /** @internal IP plus L4 header length of each item. */
  itemHeaderLen = new Int32Array(0);
  /** @internal Packets merged into each item. */
  itemMerged = new Int32Array(0);
  /** @internal 1 when the item's last segment carries PSH. */
  itemPsh = new Uint8Array(0);
  /** @internal 1 when the item's checksum is known to be invalid (UDP). */
  itemBadCsum = new Uint8Array(0);
  /** @internal Previous item of the same flow, or -1. */
  itemPrev = new Int32Array(0);
  /** @internal Next item of the same flow, or -1. */
  itemNext = new Int32Array(0);
  /** @internal Flow of each item. */
  itemFlow = new Int32Array(0);

  /** @internal Number of flows in use. */
  flowCount = 0;
  /** @internal GroCandidate kind of each flow. */
  flowKind = new Uint8Array(0);
  /** @internal Key hash of each flow. */
  flowHash = new Int32Array(0);
  /** @internal bufs index of a packet carrying the flow's key. */
  flowKeyBuf = new Int32Array(0);
  /** @internal First item of each flow, or -1. */
  flowHead = new Int32Array(0);
  /** @internal Last item of each flow, or -1. */
  flowTail = new Int32Array(0);
  /** @internal Next flow in the same hash bucket, or -1. */
  flowNext = new Int32Array(0);
  /** @internal Hash buckets (first flow, or -1); length is a power of two. */
  buckets = new Int32Array(0);

  /** @internal GroOptions.checksumsValid of the pass under way (dropped when it ends). */
  checksumsValid: ArrayLike<number> | undefined = undefined;

  /** @internal Item of each bufs index, or -1. */
  itemOfBuf = new Int32Array(0);
  /** @internal Per bufs index: 1 when the packet was merged into another. */
  merged = new Uint8Array(0);
  /**
   * The indices `handleGro` returned last; the same array is refilled by the
   * next call (copy it if you need it longer).
   */
  readonly written: number[] = [];

  /** Creates a table for batches of up to `capacity` packets (it grows if a batch is larger). */
  constructor(capacity: number = IDEAL_BATCH_SIZE) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw invalidArgument(`GroTable capacity must be a positive integer, got ${capacity}`);
    this.grow(capacity);
  }

  private grow(capacity: number): void {
    this.capacity = capacity;
    this.itemBuf = new Int32Array(capacity);
    this.itemSeq = new Int32Array(capacity);
    this.itemLen = new Int32Array(capacity);
    this.itemGsoSize = new Int32Array(capacity);
    this.itemHeaderLen = new Int32Array(capacity);
    this.itemMerged = new Int32Array(capacity);
    this.itemPsh = new Uint8Array(capacity);
    this.itemBadCsum = new Uint8Array(capacity);
    this.itemPrev = new Int32Array(capacity);
    this.itemNext = new Int32Array(capacity);
    this.itemFlow = new Int32Array(capacity);
    this.flowKind = new Uint8Array(capacity);
    this.flowHash = new Int32Array(capacity);
    this.flowKeyBuf = new Int32Array(capacity);
    this.flowHead = new Int32Array(capacity);
    this.flowTail = new Int32Array(capacity);
    this.flowNext = new Int32Array(capacity);
    let buckets = 16;
    while (buckets < capacity * 2) buckets *= 2;
    this.buckets = new Int32Array(buckets);
    this.itemOfBuf = new Int32Array(capacity);
    this.merged = new Uint8Array(capacity);
  }

  /** @internal Empties the table for a batch of `packets` packets. */
  reset(packets: number): void {
    if (packets > this.capacity) this.grow(Math.max(packets, this.capacity * 2));
    this.itemCount = 0;
    this.flowCount = 0;
    this.buckets.fill(-1);
    this.itemOfBuf.fill(-1, 0, packets);
    this.merged.fill(0, 0, packets);
  }

  /** @internal Hash of the flow key of the packet at `bytes[offset..]` for flow `kind`. */
  hashKey(kind: number, bytes: Uint8Array, offset: number): number {
    const ranges = KEY_RANGES[kind];
    let h = Math.imul(kind, 0x9e3779b1);
    for (let r = 0; r < ranges.length; r += 2) {
      for (let i = offset + ranges[r]; i < offset + ranges[r + 1]; i += 4) {
        const w = (bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3];
        h = Math.imul(h ^ w, 0x85ebca6b);
        h ^= h >>> 13;
      }
    }
    return h | 0;
  }

  /**
   * @internal The flow of `kind` whose key equals the packet's, or -1. Key bytes
   * of a flow are read from `bufs[flowKeyBuf]` at `offset`.
   */
  findFlow(kind: number, hash: number, bytes: Uint8Array, bufs: readonly Uint8Array[], offset: number): number {
    const ranges = KEY_RANGES[kind];
    for (let f = this.buckets[hash & (this.buckets.length - 1)]; f >= 0; f = this.flowNext[f]) {
      if (this.flowKind[f] !== kind || this.flowHash[f] !== hash) continue;
      const other = bufs[this.flowKeyBuf[f]];
      let equal = true;
      for (let r = 0; r < ranges.length && equal; r += 2) {
        for (let i = offset + ranges[r]; i < offset + ranges[r + 1]; i++) {
          if (bytes[i] !== other[i]) {
            equal = false;
            break;
          }
        }
      }
      if (equal) return f;
    }
    return -1;
  }

  /** @internal Adds an empty flow keyed by the packet at `keyBuf`; returns it. */
  addFlow(kind: number, hash: number, keyBuf: number): number {
    const f = this.flowCount++;
    const bucket = hash & (this.buckets.length - 1);
    this.flowKind[f] = kind;
    this.flowHash[f] = hash;
    this.flowKeyBuf[f] = keyBuf;
    this.flowHead[f] = -1;
    this.flowTail[f] = -1;
    this.flowNext[f] = this.buckets[bucket];
    this.buckets[bucket] = f;
    return f;
  }

  /** @internal Appends an item for packet `buf` to `flow`; returns it. */
  addItem(
    flow: number,
    buf: number,
    seq: number,
    length: number,
    gsoSize: number,
    headerLen: number,
    psh: boolean,
    badCsum: boolean,
  ): number {
    const it = this.itemCount++;
    this.itemBuf[it] = buf;
    this.itemSeq[it] = seq;
    this.itemLen[it] = length;
    this.itemGsoSize[it] = gsoSize;
    this.itemHeaderLen[it] = headerLen;
    this.itemMerged[it] = 0;
    this.itemPsh[it] = psh ? 1 : 0;
    this.itemBadCsum[it] = badCsum ? 1 : 0;
    this.itemFlow[it] = flow;
    const tail = this.flowTail[flow];
    this.itemPrev[it] = tail;
    this.itemNext[it] = -1;
    if (tail >= 0) this.itemNext[tail] = it;
    else this.flowHead[flow] = it;
    this.flowTail[flow] = it;
    this.itemOfBuf[buf] = it;
    return it;
  }

  /** @internal Unlinks `item` from its flow (its packet is still written, uncoalesced). */
  removeItem(item: number): void {
    const flow = this.itemFlow[item];
    const prev = this.itemPrev[item];
    const next = this.itemNext[item];
    if (prev >= 0) this.itemNext[prev] = next;
    else this.flowHead[flow] = next;
    if (next >= 0) this.itemPrev[next] = prev;
    else this.flowTail[flow] = prev;
    this.itemPrev[item] = -1;
    this.itemNext[item] = -1;
  }
}

