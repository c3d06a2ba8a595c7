/**
 * `SlotRing`: a single-producer single-consumer ring of fixed-size packet slots in
 * one SharedArrayBuffer, shared by a queue worker and the main thread (RX: worker
 * produces, main consumes; TX: main produces, worker consumes).
 *
 * Memory layout (all offsets in bytes; `S` slots, a power of two; `stride` is
 * VIRTIO_NET_HDR_LEN + packet capacity rounded up to 64):
 *
 * ```
 *  0      ┌──────────────────────────────┐  one 64-byte cache line per control word, so
 *         │ HEAD    i32  (producer)      │  the producer's and the consumer's stores
 *  64     ├──────────────────────────────┤  never share a line (no false sharing)
 *         │ TAIL    i32  (consumer)      │
 *  128    ├──────────────────────────────┤
 *         │ CONSUMER_WAITING i32         │  set by a consumer about to sleep
 *  192    ├──────────────────────────────┤
 *         │ PRODUCER_WAITING i32         │  set by a producer that found the ring full
 *  256    ├──────────────────────────────┤
 *         │ STATE i32, ERROR i32, ERRNO  │  OPEN / CLOSED / FAILED, why, errno
 *  320    ├──────────────────────────────┤
 *         │ lengths  i32[S]              │  packet length per slot; SKIP (-1) = not for the consumer
 *         ├──────────────────────────────┤
 *         │ meta     u8[S]               │  per-slot flags (SLOT_VNET_HDR, SLOT_CSUM_VALID)
 *  data   ├──────────────────────────────┤  (rounded up to 64)
 *         │ slot 0: [hdr 10][packet ...] │  the 10-byte header area lets a packet leave
 *         │ slot 1: [hdr 10][packet ...] │  with a virtio_net_hdr prepended in place; in
 *         │  ...                         │  keep mode it holds the header the kernel gave
 *         │ slot S-1                     │
 *         └──────────────────────────────┘
 * ```
 *
 * HEAD and TAIL are free-running 32-bit counters (they wrap); the slot of counter
 * `n` is `n & (S - 1)`, the number of filled slots is `(HEAD - TAIL) | 0`. The
 * producer fills slots, then publishes a whole batch with one `Atomics.store` of
 * HEAD; the consumer releases with one store of TAIL. All control accesses are
 * `Atomics` (sequentially consistent), which is what makes the waiting flags safe:
 * a side sets its flag, re-checks the counters, and only then sleeps; the other side
 * stores its counter, then reads the flag (store-load order on both sides, so one of
 * them always sees the other).
 */
import { VIRTIO_NET_HDR_LEN } from '@tunpipe/offload';

/** Bytes per cache line; every control word has its own. */
export const CACHE_LINE = 64;
const WORDS_PER_LINE = CACHE_LINE / 4;

/** Int32 index of the producer counter. */
export const HEAD = 0;
/** Int32 index of the consumer counter. */
export const TAIL = 1 * WORDS_PER_LINE;
/** Int32 index of the consumer's "I am about to sleep, wake me" flag. */
export const CONSUMER_WAITING = 2 * WORDS_PER_LINE;
/** Int32 index of the producer's "the ring was full, tell me when it drains" flag. */
export const PRODUCER_WAITING = 3 * WORDS_PER_LINE;
/** Int32 index of the ring state (RingState). */
export const STATE = 4 * WORDS_PER_LINE;
/** Int32 index of the failure reason (RingFailure) when STATE is FAILED. */
export const FAILURE = STATE + 1;
/** Int32 index of the errno that goes with the failure (0 when none). */
export const FAILURE_ERRNO = STATE + 2;
/** Bytes of the control area (five cache lines). */
export const CONTROL_BYTES = 5 * CACHE_LINE;

/** Ring states, stored at STATE. */
export const RingState = {
  /** Packets flow. */
  OPEN: 0,
  /** The producer ended normally (set closed). */
  CLOSED: 1,
  /** The producer ended because of an error (FAILURE says which). */
  FAILED: 2,
} as const;

/** Why a ring failed, stored at FAILURE. */
export const RingFailure = {
  /** No failure. */
  NONE: 0,
  /** The device disappeared (POLLERR, EBADFD): link deleted or namespace gone. */
  DEVICE_GONE: 1,
  /** read() failed with an unexpected errno (FAILURE_ERRNO). */
  READ: 2,
  /** The in-worker handler threw and handlerErrors is 'fatal'. */
  HANDLER: 3,
  /** The worker thread died (uncaught exception, terminated). */
  WORKER: 4,
} as const;

/** Length value marking a published slot the consumer must skip (consumed in the worker). */
export const SKIP = -1;
/** Slot flag: the header area holds a meaningful virtio_net_hdr for this packet. */
export const SLOT_VNET_HDR = 1;
/**
 * Slot flag: the worker split this segment itself and wrote its IPv4 header and
 * L4 checksums (the kernel's CHECKSUM_UNNECESSARY): GRO on the way out trusts
 * them. Set only by a split-mode worker; every other slot writer clears it.
 */
export const SLOT_CSUM_VALID = 2;

/** Everything needed to attach to an existing ring from another thread (structured-cloneable). */
export interface SlotRingDescriptor {
  /** The shared memory. */
  buffer: SharedArrayBuffer;
  /** Number of slots (a power of two). */
  slots: number;
  /** Bytes available for the packet in each slot (after the header area). */
  packetCapacity: number;
}

/** Rounds `n` up to a multiple of 64. */
function alignLine(n: number): number {
  return Math.ceil(n / CACHE_LINE) * CACHE_LINE;
}

/** Bytes from one slot's start to the next: header area + packet capacity, cache-line aligned. */
export function slotStride(packetCapacity: number): number {
  return alignLine(VIRTIO_NET_HDR_LEN + packetCapacity);
}

/** Total SharedArrayBuffer size of a ring with this geometry. */
export function slotRingByteLength(slots: number, packetCapacity: number): number {
  return alignLine(CONTROL_BYTES + 5 * slots) + slots * slotStride(packetCapacity);
}

/** Smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** An SPSC ring of packet slots over a SharedArrayBuffer; see the file comment for the layout. */
export class SlotRing {
  /** The shared memory (send `descriptor` to the other thread). */
  readonly buffer: SharedArrayBuffer;
  /** Number of slots (power of two). */
  readonly slots: number;
  /** `slots - 1`, to turn a counter into a slot index. */
  readonly mask: number;
  /** Packet bytes each slot can hold. */
  readonly packetCapacity: number;
  /** Bytes between slot starts. */
  readonly stride: number;
  /** Byte offset of slot 0 in `buffer`. */
  readonly dataOffset: number;
  /** Control words (see the index constants). */
  readonly control: Int32Array;
  /** Packet length per slot (SKIP = consumed by the worker). */
  readonly lengths: Int32Array;
  /** Per-slot flags (SLOT_VNET_HDR). */
  readonly meta: Uint8Array;
  /** All of `buffer` as bytes. */
  readonly bytes: Uint8Array;
  /** Per slot: a view of the whole slot, header area first (`[hdr 10][packet capacity]`). */
  readonly frames: Uint8Array[];
  /** Per slot: a view starting at the packet (header area excluded), `packetCapacity` long. */
  readonly packets: Uint8Array[];
  /** Per slot: the 10-byte header area. */
  readonly headers: Uint8Array[];

  private constructor(buffer: SharedArrayBuffer, slots: number, packetCapacity: number) {
    if (!Number.isInteger(slots) || slots < 2 || (slots & (slots - 1)) !== 0) {
      throw new RangeError(`slot count must be a power of two >= 2, got ${slots}`);
    }
    if (buffer.byteLength < slotRingByteLength(slots, packetCapacity)) {
      throw new RangeError('shared buffer too small for the ring geometry');
    }
    this.buffer = buffer;
    this.slots = slots;
    this.mask = slots - 1;
    this.packetCapacity = packetCapacity;
    this.stride = slotStride(packetCapacity);
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.lengths = new Int32Array(buffer, CONTROL_BYTES, slots);
    this.meta = new Uint8Array(buffer, CONTROL_BYTES + 4 * slots, slots);
    this.dataOffset = alignLine(CONTROL_BYTES + 5 * slots);
    this.bytes = new Uint8Array(buffer);
    this.frames = new Array<Uint8Array>(slots);
    this.packets = new Array<Uint8Array>(slots);
    this.headers = new Array<Uint8Array>(slots);
    for (let i = 0; i < slots; i++) {
      const start = this.dataOffset + i * this.stride;
      this.frames[i] = new Uint8Array(buffer, start, VIRTIO_NET_HDR_LEN + packetCapacity);
      this.packets[i] = new Uint8Array(buffer, start + VIRTIO_NET_HDR_LEN, packetCapacity);
      this.headers[i] = new Uint8Array(buffer, start, VIRTIO_NET_HDR_LEN);
    }
  }

  /** Allocates a ring of `slots` (rounded up to a power of two) slots of `packetCapacity` bytes. */
  static create(slots: number, packetCapacity: number): SlotRing {
    const n = nextPowerOfTwo(Math.max(2, slots));
    return new SlotRing(new SharedArrayBuffer(slotRingByteLength(n, packetCapacity)), n, packetCapacity);
  }

  /** Attaches to a ring created by another thread. */
  static attach(d: SlotRingDescriptor): SlotRing {
    return new SlotRing(d.buffer, d.slots, d.packetCapacity);
  }

  /** What another thread needs to `attach`. */
  get descriptor(): SlotRingDescriptor {
    return { buffer: this.buffer, slots: this.slots, packetCapacity: this.packetCapacity };
  }

  /** Byte offset in `buffer` of the packet in slot `index` (slot start + 10). */
  packetOffset(index: number): number {
    return this.dataOffset + index * this.stride + VIRTIO_NET_HDR_LEN;
  }

  // ---- producer side ----

  /** Slots the producer may fill, given its private (unpublished) head counter. */
  freeSlots(head: number): number {
    return this.slots - ((head - Atomics.load(this.control, TAIL)) | 0);
  }

  /** Makes every slot before counter `head` visible to the consumer. */
  publish(head: number): void {
    Atomics.store(this.control, HEAD, head);
  }

  // ---- consumer side ----

  /** Filled slots after the consumer's private tail counter `tail`. */
  filledSlots(tail: number): number {
    return (Atomics.load(this.control, HEAD) - tail) | 0;
  }

  /** Returns every slot before counter `tail` to the producer. */
  release(tail: number): void {
    Atomics.store(this.control, TAIL, tail);
  }

  // ---- waiting flags (Dekker-style: set flag, re-check, sleep; other side: store counter, test flag) ----

  /** Sets a waiting flag (CONSUMER_WAITING or PRODUCER_WAITING). */
  setWaiting(flag: number): void {
    Atomics.store(this.control, flag, 1);
  }

  /** Clears a waiting flag. */
  clearWaiting(flag: number): void {
    Atomics.store(this.control, flag, 0);
  }

  /** Clears a waiting flag and returns true if it was set: the caller must wake the waiter. */
  takeWaiting(flag: number): boolean {
    return Atomics.load(this.control, flag) !== 0 && Atomics.exchange(this.control, flag, 0) !== 0;
  }

  // ---- state ----

  /** RingState of the ring. */
  get state(): number {
    return Atomics.load(this.control, STATE);
  }

  /** RingFailure when `state` is FAILED. */
  get failure(): number {
    return Atomics.load(this.control, FAILURE);
  }

  /** errno that goes with `failure` (0 if none). */
  get failureErrno(): number {
    return Atomics.load(this.control, FAILURE_ERRNO);
  }

  /** Marks the ring closed (no more packets will be published). Idempotent; a failure stays a failure. */
  close(): void {
    Atomics.compareExchange(this.control, STATE, RingState.OPEN, RingState.CLOSED);
  }

  /** Marks the ring failed with a reason (and errno). The first failure wins. */
  fail(failure: number, err = 0): void {
    if (Atomics.load(this.control, STATE) === RingState.FAILED) return;
    Atomics.store(this.control, FAILURE, failure);
    Atomics.store(this.control, FAILURE_ERRNO, err);
    Atomics.store(this.control, STATE, RingState.FAILED);
  }
}
