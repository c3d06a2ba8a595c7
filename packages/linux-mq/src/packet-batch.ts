/**
 * `PacketBatch`: packets of one queue handed to the main thread as views into
 * the RX ring, zero-copy. The batch (and every view taken from it) is valid until
 * `release()`; after that the worker reuses the slots. Batch objects are pooled by
 * their reader and reused: do not keep one after releasing it. `copy(i)` gives a
 * packet you may keep.
 */
import { TunError } from '@tunpipe/offload';
import { SLOT_VNET_HDR, type SlotRing } from './slot-ring.js';

/** What a batch needs from its reader. */
export interface BatchOwner {
  /** Returns the batch's slots to the worker. */
  releaseBatch(batch: PacketBatch): void;
  /** Exact-length view of slot `s` of queue `q` (cached per slot). */
  view(q: number, s: number, len: number): Uint8Array;
}

/** A batch of received packets from one queue. */
export class PacketBatch implements Iterable<Uint8Array> {
  /** Index of the device in the set. */
  readonly device: number;
  /** The queue the packets came from. */
  readonly queue: number;
  /** Number of packets. */
  count = 0;
  /** @internal Ring counter of the first slot covered. */
  start = 0;
  /** @internal Slots covered (packets plus slots the worker consumed itself). */
  span = 0;
  /** @internal Slot index of each packet. */
  readonly slots: Int32Array;
  /** @internal True once released (also while pooled). */
  done = true;
  private readonly ring: SlotRing;
  private readonly owner: BatchOwner;

  /** @internal Created by a BatchReader. */
  constructor(owner: BatchOwner, ring: SlotRing, device: number, queue: number, capacity: number) {
    this.owner = owner;
    this.ring = ring;
    this.device = device;
    this.queue = queue;
    this.slots = new Int32Array(capacity);
  }

  /** True once `release()` ran: the views are no longer valid. */
  get released(): boolean {
    return this.done;
  }

  /** The ring's shared memory, for `offset(i)`-based access without views. */
  get buffer(): SharedArrayBuffer {
    return this.ring.buffer;
  }

  /** Packet `i` as a view into the ring (no copy; valid until release). */
  data(i: number): Uint8Array {
    const s = this.slot(i);
    return this.owner.view(this.queue, s, this.ring.lengths[s]!);
  }

  /** Length of packet `i` in bytes. */
  length(i: number): number {
    return this.ring.lengths[this.slot(i)]!;
  }

  /** Byte offset of packet `i` in `buffer`. */
  offset(i: number): number {
    return this.ring.packetOffset(this.slot(i));
  }

  /**
   * The 10-byte virtio_net_hdr the kernel gave with packet `i` (keep mode on an
   * offload device: GSO type and size of a superpacket, NEEDS_CSUM...), or null
   * when the packet has none (split mode, no offload). A view; valid until release.
   */
  virtioHeader(i: number): Uint8Array | null {
    const s = this.slot(i);
    return (this.ring.meta[s]! & SLOT_VNET_HDR) !== 0 ? this.ring.headers[s]! : null;
  }

  /** A copy of packet `i` that stays valid after release. */
  copy(i: number): Uint8Array {
    return this.data(i).slice();
  }

  /** Hands the slots back to the worker. Idempotent. */
  release(): void {
    if (this.done) return;
    this.owner.releaseBatch(this);
  }

  /** The packets as views, in order. */
  *[Symbol.iterator](): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.count; i++) yield this.data(i);
  }

  /** `release()`, for `using batch = ...`. */
  [Symbol.dispose](): void {
    this.release();
  }

  private slot(i: number): number {
    if (this.done) throw new TunError('ERR_TUN_CLOSED', 'the batch was released; its packets are gone');
    if (!(i >= 0 && i < this.count)) throw new RangeError(`packet index ${i} outside 0..${this.count - 1}`);
    return this.slots[i]!;
  }
}
