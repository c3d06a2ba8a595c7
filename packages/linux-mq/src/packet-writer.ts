/**
 * `PacketWriter`: the main-thread producer of one device's TX rings. A packet is
 * copied into a free slot of the queue its flow hashes to (or the queue asked
 * for); slots written in one turn of the event loop are published together (one
 * `Atomics.store`) at `setImmediate` time or on `flush()`, and the worker's
 * eventfd is written only when the worker said it sleeps.
 *
 * Backpressure: `trySend()` returns false when the ring is full; `send()` and
 * `ready()` wait (Atomics.waitAsync on the ring's TAIL, with the PRODUCER_WAITING
 * flag so the worker notifies) until a slot frees, honouring an AbortSignal.
 *
 * Superpackets (a `virtioHeader` with a GSO type) go out whole to offload devices
 * and are split (and checksummed) by the worker for others; plain segments to an
 * offload device are coalesced with GRO by the worker.
 */
import { TunError, VIRTIO_NET_HDR_LEN } from '@tunpipe/offload';
import { SlotRing, CONSUMER_WAITING, PRODUCER_WAITING, TAIL, RingState, SLOT_VNET_HDR } from './slot-ring.js';
import { ATTACHED, WorkerLife, type QueueControl } from './queue-control.js';
import { flowHash } from './flow-hash.js';
import { Stat, type StatsTable } from './queue-stats.js';
import { waitAsync } from './wait-async.js';
import { aborted, ringError } from './batch-reader.js';

/** Options of `trySend` / `send`. */
export interface SendOptions {
  /** Queue to use; default: the packet's flow hash over the attached queues. */
  queue?: number | undefined;
  /**
   * The packet's virtio_net_hdr (10 bytes): a superpacket (GSO type and size) or
   * a packet whose checksum is partial (NEEDS_CSUM). Omit for ordinary packets.
   */
  virtioHeader?: Uint8Array | undefined;
  /** Abort a waiting `send` / `ready` (rejects with ERR_TUN_ABORTED). */
  signal?: AbortSignal | undefined;
}

/** Sends packets out of one device through its queue workers. */
export class PacketWriter {
  /** Index of the device in the set. */
  readonly device: number;
  private readonly rings: readonly SlotRing[];
  private readonly rxRings: readonly SlotRing[];
  private readonly controls: readonly QueueControl[];
  private readonly kick: (queue: number) => void;
  private readonly stats: StatsTable;
  private readonly heads: Int32Array;
  private readonly published: Int32Array;
  private scheduled = false;
  private closed = false;
  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** @internal Created by the queue set. */
  constructor(
    device: number,
    rings: readonly SlotRing[],
    rxRings: readonly SlotRing[],
    controls: readonly QueueControl[],
    kick: (queue: number) => void,
    stats: StatsTable,
  ) {
    this.device = device;
    this.rings = rings;
    this.rxRings = rxRings;
    this.controls = controls;
    this.kick = kick;
    this.stats = stats;
    this.heads = new Int32Array(rings.length);
    this.published = new Int32Array(rings.length);
  }

  /** Largest packet one slot holds (bytes, without virtio header). */
  get maxPacket(): number {
    return this.rings[0]!.packetCapacity;
  }

  /** Queues currently attached (the ones flow hashing picks from). */
  attachedQueues(): number[] {
    const out: number[] = [];
    for (let q = 0; q < this.controls.length; q++) if (Atomics.load(this.controls[q]!.words, ATTACHED) === 1) out.push(q);
    return out;
  }

  /**
   * The queue `packet` would leave through: its flow hash modulo the queue count,
   * moved to the next attached queue when that one is detached.
   */
  queueFor(packet: Uint8Array): number {
    const n = this.controls.length;
    const first = n === 1 ? 0 : flowHash(packet) % n;
    for (let k = 0; k < n; k++) {
      const q = (first + k) % n;
      if (Atomics.load(this.controls[q]!.words, ATTACHED) === 1) return q;
    }
    throw new TunError('ERR_TUN_NO_QUEUE', `device ${this.device}: every queue is detached`);
  }

  /**
   * Copies `packet` into a TX slot; false when that queue's ring is full (nothing
   * was sent). Published at the end of this event-loop turn (or `flush()`).
   * Throws ERR_TUN_PACKET_TOO_BIG, ERR_TUN_CLOSED, or the device's error.
   */
  trySend(packet: Uint8Array, options?: SendOptions): boolean {
    const q = this.pick(packet, options);
    const ring = this.rings[q]!;
    const len = packet.length;
    if (len === 0 || len > ring.packetCapacity) {
      throw new TunError('ERR_TUN_PACKET_TOO_BIG', `packet of ${len} bytes; a TX slot holds 1..${ring.packetCapacity}`);
    }
    if (ring.state !== RingState.OPEN) this.check(q);
    const head = this.heads[q]!;
    if (ring.freeSlots(head) <= 0) {
      this.stats.values[this.stats.base(this.device, q) + Stat.sendRingFull] += 1;
      return false;
    }
    const s = head & ring.mask;
    const at = ring.packetOffset(s);
    ring.bytes.set(packet, at);
    const hdr = options?.virtioHeader;
    if (hdr !== undefined) {
      if (hdr.length !== VIRTIO_NET_HDR_LEN) {
        throw new TunError('ERR_TUN_INVALID_ARGUMENT', `virtioHeader must be ${VIRTIO_NET_HDR_LEN} bytes, got ${hdr.length}`);
      }
      ring.bytes.set(hdr, at - VIRTIO_NET_HDR_LEN);
      ring.meta[s] = SLOT_VNET_HDR;
    } else {
      ring.meta[s] = 0;
    }
    ring.lengths[s] = len;
    this.heads[q] = (head + 1) | 0;
    this.stats.values[this.stats.base(this.device, q) + Stat.sent] += 1;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
    return true;
  }

  /** Sends `packet`, waiting for room when the ring is full. */
  async send(packet: Uint8Array, options?: SendOptions): Promise<void> {
    for (;;) {
      if (this.trySend(packet, options)) return;
      await this.ready({ queue: this.pick(packet, options), signal: options?.signal });
    }
  }

  /** Resolves once queue `queue` (default 0) has a free TX slot. */
  async ready(options: { queue?: number | undefined; signal?: AbortSignal | undefined } = {}): Promise<void> {
    const q = options.queue ?? 0;
    const { signal } = options;
    const ring = this.rings[q];
    if (ring === undefined) throw new TunError('ERR_TUN_INVALID_ARGUMENT', `no queue ${q}`);
    const full = (): boolean => ring.freeSlots(this.heads[q]!) === 0;
    for (;;) {
      this.check(q);
      if (!full()) return;
      if (signal?.aborted) throw aborted(signal);
      await this.tailMoves(q, full, signal);
    }
  }

  /**
   * Publishes what was sent, then sleeps until queue `q`'s worker moves the
   * ring's TAIL, unless `waiting()` turned false or the ring stopped meanwhile
   * (checked after PRODUCER_WAITING is set, so no wake-up is missed). An abort
   * of `signal` wakes it. The callers loop and re-check their condition.
   */
  private async tailMoves(q: number, waiting: () => boolean, signal?: AbortSignal): Promise<void> {
    const ring = this.rings[q]!;
    this.flush();
    const seen = Atomics.load(ring.control, TAIL);
    ring.setWaiting(PRODUCER_WAITING);
    if (!waiting() || ring.state !== RingState.OPEN) {
      ring.clearWaiting(PRODUCER_WAITING);
      return;
    }
    const r = waitAsync(ring.control, TAIL, seen);
    if (!r.async) return;
    const wake = (): void => void Atomics.notify(ring.control, TAIL);
    signal?.addEventListener('abort', wake, { once: true });
    try {
      await r.value;
    } finally {
      signal?.removeEventListener('abort', wake);
    }
  }

  /** Publishes every slot written so far and wakes sleeping workers. */
  flush(): void {
    for (let q = 0; q < this.rings.length; q++) {
      const head = this.heads[q]!;
      if (head === this.published[q]) continue;
      const ring = this.rings[q]!;
      ring.publish(head);
      this.published[q] = head;
      if (ring.takeWaiting(CONSUMER_WAITING)) this.kick(q);
    }
  }

  /**
   * Publishes what was sent and resolves once the queue workers have written all
   * of it (every TX ring empty), or a queue stopped (closed or failed: what is
   * left will not be written). Packets sent meanwhile are waited for too.
   */
  async drained(): Promise<void> {
    this.flush();
    for (let q = 0; q < this.rings.length; q++) {
      const ring = this.rings[q]!;
      const filled = (): boolean => ring.freeSlots(this.heads[q]!) < ring.slots;
      while (filled()) {
        if (ring.state !== RingState.OPEN || this.controls[q]!.life === WorkerLife.EXITED) break;
        await this.tailMoves(q, filled);
      }
    }
  }

  /** @internal The set is closing: publish what is pending, then refuse further sends. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    for (const ring of this.rings) Atomics.notify(ring.control, TAIL);
  }

  private pick(packet: Uint8Array, options: SendOptions | undefined): number {
    if (this.closed) throw new TunError('ERR_TUN_CLOSED', 'the queue set is closed');
    const q = options?.queue;
    if (q === undefined) return this.queueFor(packet);
    if (!Number.isInteger(q) || q < 0 || q >= this.rings.length) {
      throw new TunError('ERR_TUN_INVALID_ARGUMENT', `queue must be 0..${this.rings.length - 1}, got ${q}`);
    }
    return q;
  }

  /** Throws when queue `q` can no longer send. */
  private check(q: number): void {
    if (this.closed) throw new TunError('ERR_TUN_CLOSED', 'the queue set is closed');
    const ring = this.rings[q]!;
    if (ring.state !== RingState.OPEN || this.controls[q]!.life === WorkerLife.EXITED) {
      const rx = this.rxRings[q]!;
      if (rx.state === RingState.FAILED) throw ringError(rx, this.device, q);
      throw new TunError('ERR_TUN_CLOSED', `device ${this.device} queue ${q} is closed`);
    }
  }
}
