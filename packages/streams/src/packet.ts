/**
 * `Packet`: one IP packet (TUN) or Ethernet frame (TAP) as the streams layer
 * passes it around: readable streams, observables, framed transports, pcap taps.
 *
 * Ownership. A packet read from a device is a VIEW into a worker's receive ring
 * (a SharedArrayBuffer); its `data` is valid until the batch it came from is
 * released. The device's consumers release a batch once `retain` (default 64)
 * further packets were read after it, or when they caught up with the device,
 * and never before the next read (packet-cursor.ts states the rule exactly).
 * Whoever keeps a packet longer (buffers it, queues it for later, sends it to
 * another thread) calls `copy()` first, which detaches it from the ring, or opens
 * the device with `copy: true`. Packets made with `packetOf()` or decoded from
 * frames own their bytes, and `copy()` on them is an ordinary deep copy.
 *
 * Timestamps are `bigint` nanoseconds since the Unix epoch (CLOCK_REALTIME): the
 * one unit that loses nothing for pcap nanosecond captures and round-trips through
 * msgpack as a 64-bit integer. `timestampNow()` gives the current time in that unit.
 */
import { TunError } from '@tunpipe/offload';
import type { VirtioNetHdr } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';

/** Metadata a packet may carry besides its bytes. */
export interface PacketMeta {
  /** Index of the device queue the packet came from or should go to. Default 0. */
  queue?: number;
  /** The virtio-net header (keep mode: superpackets and partial checksums travel with it). */
  virtioHeader?: VirtioNetHdr;
  /** Receive (or creation) time, nanoseconds since the Unix epoch. */
  timestamp?: bigint;
  /** Application metadata carried by framed transports; tunpipe never interprets it. */
  meta?: unknown;
}

/** One packet of the streams layer. See the module comment for ownership. */
export interface Packet {
  /** The packet's bytes: an IP packet (TUN) or an Ethernet frame (TAP), without virtio header. */
  readonly data: Uint8Array;
  /** Device queue index. */
  readonly queue: number;
  /** The virtio-net header, in keep mode only. */
  readonly virtioHeader?: VirtioNetHdr;
  /** Nanoseconds since the Unix epoch, when known. */
  readonly timestamp?: bigint;
  /** Application metadata (framed transports), never interpreted by tunpipe. */
  readonly meta?: unknown;
  /** A packet with the same contents that owns its bytes (detached from any ring). */
  copy(): Packet;
}

/**
 * The one Packet implementation. Device streams construct it over ring views
 * (`new PacketView(view, queue, hdr, ts)`), users through `packetOf()`.
 */
export class PacketView implements Packet {
  /** @inheritdoc */
  readonly data: Uint8Array;
  /** @inheritdoc */
  readonly queue: number;
  /** @inheritdoc */
  readonly virtioHeader?: VirtioNetHdr;
  /** @inheritdoc */
  readonly timestamp?: bigint;
  /** @inheritdoc */
  readonly meta?: unknown;

  /** Wraps `data` without copying it. Every field is always present (one object shape for V8). */
  constructor(data: Uint8Array, queue = 0, virtioHeader?: VirtioNetHdr, timestamp?: bigint, meta?: unknown) {
    this.data = data;
    this.queue = queue;
    this.virtioHeader = virtioHeader;
    this.timestamp = timestamp;
    this.meta = meta;
  }

  /** @inheritdoc */
  copy(): Packet {
    const hdr = this.virtioHeader === undefined ? undefined : { ...this.virtioHeader };
    return new PacketView(this.data.slice(), this.queue, hdr, this.timestamp, this.meta);
  }
}

/** A packet over `bytes` (not copied: the caller hands them over) with optional metadata. */
export function packetOf(bytes: Uint8Array, meta: PacketMeta = {}): Packet {
  const queue = meta.queue ?? 0;
  if (!Number.isSafeInteger(queue) || queue < 0) {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `packet queue must be a non-negative integer, got ${String(queue)}`);
  }
  return new PacketView(bytes, queue, meta.virtioHeader, meta.timestamp, meta.meta);
}

/** True when `value` is a Packet (has `data` bytes, a numeric `queue` and `copy()`). */
export function isPacket(value: unknown): value is Packet {
  if (value instanceof PacketView) return true;
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Partial<Packet>;
  return p.data instanceof Uint8Array && typeof p.queue === 'number' && typeof p.copy === 'function';
}

/** The current time as a packet timestamp: nanoseconds since the Unix epoch. */
export function timestampNow(): bigint {
  // performance.timeOrigin + now() has microsecond resolution and follows the
  // wall clock from process start; hrtime gives the sub-microsecond part.
  const ms = performance.timeOrigin + performance.now();
  const wholeMs = Math.floor(ms);
  return BigInt(wholeMs) * 1_000_000n + BigInt(Math.round((ms - wholeMs) * 1e6));
}
