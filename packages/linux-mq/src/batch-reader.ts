/**
 * `BatchReader`: the main-thread consumer of one device's RX rings (one per
 * queue). It hands out `PacketBatch`es round-robin over the queues, zero-copy,
 * and sleeps on the device's doorbell with `Atomics.waitAsync` when every ring is
 * empty: the workers ring it only when the reader flagged that it sleeps.
 *
 * Pull-shaped on purpose, so wrappers stay cheap: `tryRead()` for a synchronous
 * fast path, `read({ signal })` for a ReadableStream's `pull()`, and
 * `batches()` / `for await` for everything else.
 *
 * Several batches may be outstanding at once (a stream's queue holds some);
 * releasing them in any order is fine: a ring's slots go back to the worker up to
 * the oldest batch still held.
 */
import { TunError } from '@tunpipe/offload';
import { SlotRing, CONSUMER_WAITING, PRODUCER_WAITING, TAIL, RingState, RingFailure, SKIP } from './slot-ring.js';
import { Doorbell } from './doorbell.js';
import { PacketBatch, type BatchOwner } from './packet-batch.js';
import { Stat, type StatsTable } from './queue-stats.js';

/** Options of `read()` and `batches()`. */
export interface ReadOptions {
  /** Abort the wait: `read()` rejects with ERR_TUN_ABORTED (`cause` = the signal's reason). */
  signal?: AbortSignal | undefined;
}

/** Options of a reader. */
export interface BatchReaderOptions {
  /** Most packets per batch. Default 256. */
  maxBatch?: number;
  /** Batches that may be outstanding (not released) per queue. Default 16. */
  maxOutstanding?: number;
}

/** Per-queue consumer state. */
interface QueueCursor {
  readonly ring: SlotRing;
  /** Next ring counter to hand out. */
  cursor: number;
  /** Batches handed out, oldest first (released ones stay until the older ones go). */
  readonly outstanding: PacketBatch[];
  /** Pooled batch objects. */
  readonly free: PacketBatch[];
  /** Cached exact-length views, per slot. */
  readonly views: Array<Uint8Array | undefined>;
}

/** Turns a failed ring into the error consumers see. */
export function ringError(ring: SlotRing, device: number, queue: number): TunError {
  const where = `device ${device} queue ${queue}`;
  const err = ring.failureErrno;
  const details = err !== 0 ? { errno: err, syscall: 'read' } : {};
  switch (ring.failure) {
    case RingFailure.DEVICE_GONE:
      return new TunError('ERR_TUN_DEVICE_GONE', `${where}: the device is gone (deleted, or its namespace was)`, details);
    case RingFailure.READ:
      return new TunError('ERR_TUN_READ', `${where}: read() failed`, details);
    case RingFailure.HANDLER:
      return new TunError('ERR_TUN_HANDLER', `${where}: the packet handler threw and handlerErrors is 'fatal'`);
    default:
      return new TunError('ERR_TUN_WORKER', `${where}: the queue worker died`);
  }
}

/** Reads batches from every queue of one device. */
export class BatchReader implements BatchOwner, AsyncIterable<PacketBatch> {
  /** Index of the device in the set. */
  readonly device: number;
  private readonly queues: QueueCursor[];
  private readonly bell: Doorbell;
  private readonly kick: (queue: number) => void;
  private readonly stats: StatsTable;
  private readonly maxBatch: number;
  private next = 0;
  private sleepers = 0;

  /** @internal Created by the queue set. */
  constructor(
    device: number,
    rings: readonly SlotRing[],
    bell: Doorbell,
    kick: (queue: number) => void,
    stats: StatsTable,
    options: BatchReaderOptions = {},
  ) {
    this.device = device;
    this.bell = bell;
    this.kick = kick;
    this.stats = stats;
    this.maxBatch = options.maxBatch ?? 256;
    const maxOutstanding = options.maxOutstanding ?? 16;
    this.queues = rings.map((ring, q) => {
      const free: PacketBatch[] = [];
      for (let i = 0; i < maxOutstanding; i++) free.push(new PacketBatch(this, ring, device, q, this.maxBatch));
      return {
        ring,
        cursor: Atomics.load(ring.control, TAIL),
        outstanding: [],
        free,
        views: new Array<Uint8Array | undefined>(ring.slots),
      };
    });
  }

  /**
   * The next batch if one is ready now, else null (also at the end: see `ended`).
   * Throws the queue's error (ERR_TUN_DEVICE_GONE...) once a failed queue is drained.
   */
  tryRead(): PacketBatch | null {
    const n = this.queues.length;
    for (let k = 0; k < n; k++) {
      const q = (this.next + k) % n;
      const b = this.take(q);
      if (b !== null) {
        this.next = q + 1;
        return b;
      }
    }
    this.throwIfFailed();
    return null;
  }

  /** True when every queue has stopped (set closed) and everything was read. */
  get ended(): boolean {
    for (const c of this.queues) {
      if (c.ring.state === RingState.OPEN || c.ring.filledSlots(c.cursor) > 0) return false;
    }
    return true;
  }

  /**
   * The next batch; waits (without blocking the event loop) while the rings are
   * empty. Resolves null once the set is closed and drained; rejects with the
   * queue's TunError when the device failed (ERR_TUN_DEVICE_GONE...), or
   * ERR_TUN_ABORTED.
   */
  async read(options: ReadOptions = {}): Promise<PacketBatch | null> {
    const { signal } = options;
    for (;;) {
      const b = this.tryRead();
      if (b !== null) return b;
      if (this.ended) return null;
      if (signal?.aborted) throw aborted(signal);
      const seen = this.bell.sequence;
      for (const c of this.queues) c.ring.setWaiting(CONSUMER_WAITING);
      if (!this.readable() && !this.ended) {
        this.sleepers++;
        try {
          await this.bell.wait(seen, signal);
        } finally {
          this.sleepers--;
        }
      }
      for (const c of this.queues) c.ring.clearWaiting(CONSUMER_WAITING);
    }
  }

  /**
   * Async iteration over batches. Each batch is released when the next one is
   * requested (or the loop ends); call `release()` earlier to free slots sooner.
   */
  async *batches(options: ReadOptions = {}): AsyncGenerator<PacketBatch, void, undefined> {
    let prev: PacketBatch | null = null;
    try {
      for (;;) {
        prev?.release();
        prev = null;
        const b = await this.read(options);
        if (b === null) return;
        prev = b;
        yield b;
      }
    } finally {
      prev?.release();
    }
  }

  /** Same as `batches()`. */
  [Symbol.asyncIterator](): AsyncGenerator<PacketBatch, void, undefined> {
    return this.batches();
  }

  // ---- BatchOwner ----

  /** @internal */
  releaseBatch(batch: PacketBatch): void {
    batch.done = true;
    const c = this.queues[batch.queue]!;
    const out = c.outstanding;
    let tail = -1;
    while (out.length > 0 && out[0]!.done) {
      const b = out.shift()!;
      tail = (b.start + b.span) | 0;
      c.free.push(b);
    }
    if (tail !== -1) {
      c.ring.release(tail);
      if (c.ring.takeWaiting(PRODUCER_WAITING)) this.kick(batch.queue);
    }
    if (this.sleepers > 0) this.bell.ring();
  }

  /** @internal */
  view(q: number, s: number, len: number): Uint8Array {
    const c = this.queues[q]!;
    let v = c.views[s];
    if (v === undefined || v.length !== len) {
      v = new Uint8Array(c.ring.buffer, c.ring.packetOffset(s), len);
      c.views[s] = v;
    }
    return v;
  }

  // ---- internals ----

  /** True when some queue has packets and a free batch object. */
  private readable(): boolean {
    for (const c of this.queues) if (c.free.length > 0 && c.ring.filledSlots(c.cursor) > 0) return true;
    return false;
  }

  private take(q: number): PacketBatch | null {
    const c = this.queues[q]!;
    const ring = c.ring;
    for (;;) {
      const avail = ring.filledSlots(c.cursor);
      if (avail <= 0 || c.free.length === 0) return null;
      const span = avail < this.maxBatch ? avail : this.maxBatch;
      const b = c.free.pop()!;
      const lengths = ring.lengths;
      const mask = ring.mask;
      let count = 0;
      for (let i = 0; i < span; i++) {
        const s = (c.cursor + i) & mask;
        if (lengths[s] !== SKIP) b.slots[count++] = s;
      }
      b.start = c.cursor;
      b.span = span;
      b.count = count;
      b.done = false;
      c.cursor = (c.cursor + span) | 0;
      c.outstanding.push(b);
      if (count === 0) {
        // Only slots the worker consumed itself: hand them straight back.
        this.releaseBatch(b);
        continue;
      }
      const base = this.stats.base(this.device, q);
      this.stats.values[base + Stat.delivered] += count;
      this.stats.values[base + Stat.deliveredBatches] += 1;
      return b;
    }
  }

  private throwIfFailed(): void {
    for (let q = 0; q < this.queues.length; q++) {
      const c = this.queues[q]!;
      if (c.ring.state === RingState.FAILED && c.ring.filledSlots(c.cursor) <= 0) {
        throw ringError(c.ring, this.device, q);
      }
    }
  }
}

/** The error of an aborted wait. */
export function aborted(signal: AbortSignal): TunError {
  const e = new TunError('ERR_TUN_ABORTED', 'the wait was aborted', { cause: signal.reason });
  e.name = 'AbortError';
  return e;
}
