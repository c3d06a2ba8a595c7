/**
 * The contract of an in-worker packet handler module.
 *
 * A handler is a module given by path (`openQueues({ handler })`), imported by
 * every queue worker. It exports `handle` (named or default): a synchronous
 * function called once per batch read from the queue, with the packets as views
 * into the RX ring. It sets a verdict per packet (`verdict.ts`) and may rewrite
 * packets in place (NAT, TTL...): `bufs[i]` is the whole slot, the packet lives at
 * `[offset, offset + lengths[i])` and may grow up to `capacity` (set
 * `lengths[i]`); use @tunpipe/offload's checksum helpers after rewriting. It may
 * also export `init(context)`, called once per worker before the first batch.
 *
 * ```js
 * // forward-all.mjs: relay everything between device 0 and device 1
 * import { Verdict } from '@tunpipe/linux-mq';
 * export function handle(batch) {
 *   batch.verdicts.fill(Verdict.forward(1 - batch.device));
 * }
 * ```
 *
 * Views are valid only during the call. A handler that throws is counted and
 * reported to the main thread (`onHandlerError`, diagnostics channel
 * `tunpipe:queue:handler-error`); the batch is dropped (or passed, or the queue
 * fails) as `handlerErrors` says.
 */

/** One batch as a handler sees it. Arrays are exactly `count` long. */
export interface HandlerBatch {
  /** Index of the device in the set. */
  readonly device: number;
  /** Queue index. */
  readonly queue: number;
  /** Packets in this batch. */
  readonly count: number;
  /** Per packet: the slot (header area, then the packet at `offset`). */
  readonly bufs: readonly Uint8Array[];
  /** Offset of each packet in its buf (VIRTIO_NET_HDR_LEN). */
  readonly offset: number;
  /** Packet lengths; a handler that resizes a packet writes the new length here. */
  readonly lengths: Int32Array;
  /** Largest packet a slot holds (bytes after `offset`). */
  readonly capacity: number;
  /** Verdict per packet, preset to PASS. */
  readonly verdicts: Uint8Array;
  /** True when `bufs[i]` starts with the virtio_net_hdr the kernel gave (keep mode, offload device). */
  hasVirtioHeader(i: number): boolean;
}

/** Handed to `init`. */
export interface HandlerContext {
  /** Index of the device this worker serves. */
  readonly device: number;
  /** Queue index. */
  readonly queue: number;
  /** Queues per device. */
  readonly queues: number;
  /** Devices in the set. */
  readonly devices: number;
  /** The set's mode. */
  readonly mode: 'split' | 'keep';
  /** True when the device carries virtio headers. */
  readonly vnetHdr: boolean;
  /** `handlerData` from openQueues (structured clone). */
  readonly data: unknown;
}

/** The per-batch function. */
export type PacketHandler = (batch: HandlerBatch, verdicts: Uint8Array) => void;

/** What a handler module may export. */
export interface HandlerModule {
  /** The per-batch function (also accepted as the default export). */
  handle?: PacketHandler;
  /** Default export: the per-batch function. */
  default?: PacketHandler;
  /** Called once per worker before the first batch; may return the handler to use. */
  init?: (context: HandlerContext) => void | PacketHandler;
}
