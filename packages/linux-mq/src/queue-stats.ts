/**
 * Per-queue counters in one SharedArrayBuffer for the whole queue set, written
 * by the queue workers (and, for the send/deliver counters, the main thread)
 * without any message: `stats()` just reads a snapshot.
 *
 * Each counter has exactly one writing thread, so plain Float64 stores suffice
 * (aligned 8-byte stores are not torn on the 64-bit platforms tunpipe runs on;
 * a snapshot may be a few packets old, never garbage). Float64 counts exactly up
 * to 2^53.
 *
 * ```
 * block q (one per (device, queue), rounded up to 64 bytes)
 * ┌──────────┬──────────┬─────┬──────────────┐
 * │rxPackets │rxBytes   │ ... │deliveredBatch│ f64 each, order of STAT_NAMES
 * └──────────┴──────────┴─────┴──────────────┘
 * ```
 */
import { CACHE_LINE } from './slot-ring.js';

/** Counter names, in storage order. Comments say who writes them. */
export const STAT_NAMES = [
  /** worker: packets taken from the fd and handled (segments after a split). */
  'rxPackets',
  /** worker: bytes of rxPackets (without virtio headers). */
  'rxBytes',
  /** worker: successful read() calls (a superpacket counts once). */
  'rxReads',
  /** worker: read batches (loop iterations that read at least one packet). */
  'rxBatches',
  /** worker: returns from poll(). */
  'wakeups',
  /** worker: times it found the RX ring full and stopped reading (the kernel queue then holds or drops). */
  'ringFull',
  /** worker: GSO superpackets split into segments (split mode). */
  'superpackets',
  /** worker: segments produced by those splits. */
  'segments',
  /** worker: packets dropped because they could not be parsed or split, or exceeded a slot. */
  'malformed',
  /** worker: packets published to the main thread (PASS). */
  'passed',
  /** worker: packets the handler dropped (DROP). */
  'handlerDrops',
  /** worker: batches whose handler threw. */
  'handlerErrors',
  /** worker: packets dropped because their batch's handler threw. */
  'handlerErrorDrops',
  /** worker: packets sent back out of their own device by the handler (TX). */
  'replied',
  /** worker: packets forwarded to another device by the handler (FORWARD). */
  'forwarded',
  /** worker: packets taken from the TX ring (sent by the main thread). */
  'txRingPackets',
  /** worker: write() calls that succeeded (a coalesced superpacket counts once). */
  'txPackets',
  /** worker: bytes written (without virtio headers). */
  'txBytes',
  /** worker: packets merged into another by GRO before writing (writes saved). */
  'groMerged',
  /** worker: superpackets split on the way out because the target has no offload. */
  'gsoSplit',
  /** worker: packets lost because write() failed. */
  'txErrors',
  /** main: packets the main thread put in the TX ring. */
  'sent',
  /** main: times a send found the TX ring full (backpressure). */
  'sendRingFull',
  /** main: packets handed to main-thread consumers in batches. */
  'delivered',
  /** main: batches handed to main-thread consumers. */
  'deliveredBatches',
  /**
   * worker: of txErrors, packets refused as malformed: a virtio header that
   * cannot be split or checksummed as it says, or a packet the kernel's write()
   * refused with EINVAL (not IP, inconsistent GSO fields).
   */
  'txMalformed',
  /**
   * worker: packets sent straight to another set's device by an RX redirect
   * (`QueueSet.redirectTo`, streams' fused `pipeTo`): what would otherwise have
   * been `passed` to the main thread. Their writes count in this queue's
   * txPackets/txBytes/groMerged/gsoSplit/txErrors, never in the target's.
   */
  'piped',
] as const;

/** The name of one counter. */
export type StatName = (typeof STAT_NAMES)[number];

/** Index of each counter in a block. */
export const Stat: { readonly [K in StatName]: number } = Object.fromEntries(
  STAT_NAMES.map((n, i) => [n, i]),
) as { [K in StatName]: number };

/** Doubles per block (counters rounded up to a cache line). */
export const STAT_BLOCK = Math.ceil((STAT_NAMES.length * 8) / CACHE_LINE) * (CACHE_LINE / 8);

/** A snapshot of one queue's counters. */
export type QueueStats = { readonly device: number; readonly queue: number } & { readonly [K in StatName]: number };

/** Sums of the counters over several queues. */
export type StatTotals = { readonly [K in StatName]: number };

/** The counters of every queue of a set. */
export class StatsTable {
  /** The shared memory (sent to every worker). */
  readonly buffer: SharedArrayBuffer;
  /** All counters; block of (device d, queue q) starts at `(d * queues + q) * STAT_BLOCK`. */
  readonly values: Float64Array;
  /** Queues per device. */
  readonly queues: number;
  /** Devices in the set. */
  readonly devices: number;

  /** A zeroed table, or a view of an existing one. */
  constructor(devices: number, queues: number, buffer?: SharedArrayBuffer) {
    this.devices = devices;
    this.queues = queues;
    this.buffer = buffer ?? new SharedArrayBuffer(devices * queues * STAT_BLOCK * 8);
    this.values = new Float64Array(this.buffer);
  }

  /** Start index of a queue's block in `values`. */
  base(device: number, queue: number): number {
    return (device * this.queues + queue) * STAT_BLOCK;
  }

  /** A snapshot of one queue. */
  snapshot(device: number, queue: number): QueueStats {
    const b = this.base(device, queue);
    const out: Record<string, number> = { device, queue };
    for (let i = 0; i < STAT_NAMES.length; i++) out[STAT_NAMES[i]!] = this.values[b + i]!;
    return out as QueueStats;
  }

  /** Snapshots of every queue, device by device. */
  snapshotAll(): QueueStats[] {
    const out: QueueStats[] = [];
    for (let d = 0; d < this.devices; d++) for (let q = 0; q < this.queues; q++) out.push(this.snapshot(d, q));
    return out;
  }

  /** Sums over the given snapshots. */
  static total(snapshots: readonly QueueStats[]): StatTotals {
    const out: Record<string, number> = {};
    for (const n of STAT_NAMES) out[n] = 0;
    for (const s of snapshots) for (const n of STAT_NAMES) out[n]! += s[n];
    return out as StatTotals;
  }
}
