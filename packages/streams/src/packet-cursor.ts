/**
 * `PacketCursor`: turns a device's `BatchReader` into packets, one at a time,
 * and decides when ring memory goes back to the queue workers. A device has one
 * cursor, shared by its packet consumers in turn (the readable stream,
 * `packets$`, async iteration are thin shells around it), so a consumer that
 * stops in the middle of a batch leaves the rest to the next one.
 *
 * Ownership (view mode, the default). A packet's `data` is a view into an RX
 * ring slot. The cursor holds each batch until `retain` more packets were taken
 * after the batch's last one, then releases it; and before it waits for new
 * packets (its consumers caught up with the device) it releases every batch it
 * holds, so a queue worker is never kept from a ring by packets nobody reads any
 * more. The guarantee to consumers is therefore:
 *
 *   a packet stays valid until `retain` further packets were taken after it
 *   (read, or discarded with a cancelled readable's queue), or the consumer
 *   caught up with the device, and at least until its next read.
 *
 * ```
 *  taken:   ... | batch k-2 | batch k-1 |  batch k  |      (handing out batch k)
 *               ▲ released  ▲ held: ends within the last `retain` packets
 * ```
 *
 * A released slot is overwritten only after the worker has filled the rest of
 * the ring, so packets lagging a few places behind in pass-through stages (a
 * pcap tap, TransformStreams with default queuing strategies) are safe in
 * practice; anything that keeps packets longer must `copy()` them, or open the
 * device with `copy: true` (every packet then owns its bytes, and batches are
 * released as soon as they were copied).
 *
 * Allocation: view-mode packets are `RingPacket`s from a pool of at least
 * `retain + 2 * maxBatch` objects, indexed by the running packet number, so an
 * object is refilled only after the batch of its previous packet was released.
 */
import { decodeVirtioNetHdr } from '@tunpipe/offload';
import type { BatchReader, PacketBatch } from '@tunpipe/linux-mq';
import { PacketView, timestampNow, type Packet } from './packet.js';
import { RingPacket } from './ring-packet.js';
import { turnBudget, nextTurn } from './turn-budget.js';
import { spinRead } from './idle-spin.js';

/** How a cursor hands out packets. */
export interface PacketCursorOptions {
  /** Copy every packet out of the ring (packets own their bytes). */
  copy: boolean;
  /** Packets read after a batch before it is released (view mode). */
  retain: number;
  /** Largest batch the reader hands out. */
  maxBatch: number;
  /** Stamp packets with the time their batch was taken (ns since the epoch). */
  timestamps: boolean;
  /** Microseconds to poll the rings after catching up, before sleeping (idle-spin.ts). Default 0. */
  spin?: number;
}

/** Reads packets from one device; see the file comment. */
export class PacketCursor {
  /** The packets of the latest fill: `packets[0..count)`, handed out from `position`. */
  readonly packets: Packet[] = [];
  /** Packets in the latest fill. */
  count = 0;
  /** Index of the next packet to hand out. */
  position = 0;
  private readonly reader: BatchReader;
  private readonly copyPackets: boolean;
  private readonly retain: number;
  private readonly timestamps: boolean;
  private readonly spin: number;
  /** Packets taken from the rings so far. */
  private taken = 0;
  /** Batches not yet released, oldest first, with the `taken` count at their end. */
  private readonly held: PacketBatch[] = [];
  private readonly heldEnds: number[] = [];
  private readonly pool: RingPacket[];
  private readonly poolMask: number;
  private filling: Promise<boolean> | undefined;
  private closed = false;
  private readonly tryRead = (): PacketBatch | null => this.reader.tryRead();

  /** A cursor over `reader`. */
  constructor(reader: BatchReader, options: PacketCursorOptions) {
    this.reader = reader;
    this.copyPackets = options.copy;
    this.retain = options.retain;
    this.timestamps = options.timestamps;
    this.spin = options.spin ?? 0;
    let size = 1;
    while (size < options.retain + 2 * options.maxBatch) size *= 2;
    this.pool = options.copy ? [] : new Array<RingPacket>(size);
    this.poolMask = size - 1;
  }

  /** Packets of the latest fill not handed out yet. */
  get remaining(): number {
    return this.count - this.position;
  }

  /** The next packet of the latest fill, or undefined when it is used up (then `fill()`). */
  next(): Packet | undefined {
    return this.position < this.count ? this.packets[this.position++] : undefined;
  }

  /**
   * Makes packets available: resolves true at once if some remain, else takes
   * the next batch, waiting (honouring `signal`) while the device has none.
   * Resolves false at the end (the device was closed and every packet read).
   * Rejects with the device's TunError (ERR_TUN_DEVICE_GONE...) or
   * ERR_TUN_ABORTED. Concurrent calls (a new consumer while a walked-away one's
   * wait is still unwinding) run one after the other.
   */
  async fill(signal: AbortSignal | undefined): Promise<boolean> {
    while (this.filling !== undefined) await this.filling.then(ignore, ignore);
    if (this.position < this.count) return true;
    const filling = this.takeNext(signal);
    this.filling = filling;
    try {
      return await filling;
    } finally {
      this.filling = undefined;
    }
  }

  /**
   * Makes packets available without waiting: true if some remain or a batch was
   * ready in the rings (now taken), false otherwise or while a `fill()` is in
   * progress (it owns the next batch). Throws the device's TunError once a
   * failed queue is drained. Used by a fused pipe to empty the rings.
   */
  tryFill(): boolean {
    if (this.position < this.count) return true;
    if (this.closed || this.filling !== undefined) return false;
    this.retire(this.retain);
    const batch = this.reader.tryRead();
    if (batch === null) return false;
    this.take(batch);
    return true;
  }

  /** True while a `fill()` is in progress (a consumer waits for packets). */
  get busy(): boolean {
    return this.filling !== undefined;
  }

  /** Resolves once no fill is in progress. */
  async idle(): Promise<void> {
    while (this.filling !== undefined) await this.filling.then(ignore, ignore);
  }

  /** Releases every batch held and drops the packets not handed out yet; returns how many were dropped. */
  discardRest(): number {
    const dropped = this.count - this.position;
    this.position = this.count;
    this.retire(0);
    return dropped;
  }

  /** Releases every batch held; further fills resolve false. Idempotent. */
  close(): void {
    this.closed = true;
    this.discardRest();
  }

  private async takeNext(signal: AbortSignal | undefined): Promise<boolean> {
    if (this.closed) return false;
    if (turnBudget.exhausted) await nextTurn();
    this.retire(this.retain);
    let batch = this.reader.tryRead();
    if (batch === null) {
      // Caught up with the device: let the workers have every slot back.
      this.retire(0);
      batch = spinRead(this.tryRead, this.spin) ?? (await this.reader.read({ signal }));
      if (batch === null) return false;
    }
    if (this.closed) {
      batch.release();
      return false;
    }
    this.take(batch);
    return true;
  }

  /** Releases the held batches that ended at least `window` packets ago. */
  private retire(window: number): void {
    const limit = this.taken - window;
    const held = this.held;
    const ends = this.heldEnds;
    while (held.length > 0 && ends[0]! <= limit) {
      ends.shift();
      held.shift()!.release();
    }
  }

  private take(batch: PacketBatch): void {
    const n = batch.count;
    const ts = this.timestamps ? timestampNow() : undefined;
    const out = this.packets;
    const queue = batch.queue;
    if (this.copyPackets) {
      for (let i = 0; i < n; i++) {
        const raw = batch.virtioHeader(i);
        const hdr = raw === null ? undefined : decodeVirtioNetHdr(raw);
        out[i] = new PacketView(batch.copy(i), queue, hdr, ts);
      }
      batch.release();
    } else {
      const pool = this.pool;
      const mask = this.poolMask;
      let k = this.taken;
      for (let i = 0; i < n; i++, k++) {
        let p = pool[k & mask];
        if (p === undefined) {
          p = new RingPacket();
          pool[k & mask] = p;
        }
        p.data = batch.data(i);
        p.queue = queue;
        const raw = batch.virtioHeader(i);
        p.virtioHeader = raw === null ? undefined : decodeVirtioNetHdr(raw, p.header);
        p.timestamp = ts;
        out[i] = p;
      }
      this.held.push(batch);
      this.heldEnds.push(this.taken + n);
    }
    this.count = n;
    this.position = 0;
    this.taken += n;
    turnBudget.spend(n);
  }
}

function ignore(): void {}
