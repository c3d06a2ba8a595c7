/**
 * `piscinaPacketStage()`: a piscina stage for packets. Each packet is sent to the
 * worker as a plain `PacketRecord` whose bytes are a private copy, transferred (not
 * cloned) to the worker, so ring memory is never shared with another thread and
 * the packet may be released as soon as it has been submitted.
 *
 * The worker's function receives a `PacketRecord` and returns:
 * - a `PacketRecord`: the output packet, exactly as described;
 * - a `Uint8Array`: new bytes; queue, timestamp and meta are kept from the input,
 *   the virtio header is dropped (it described the old bytes);
 * - `null` or `undefined`: the packet is dropped.
 */
import { packetOf, type Packet } from './packet.js';
import { PiscinaStage, type PiscinaStageOptions, type TaskCodec } from './piscina-stage.js';
import type { VirtioNetHdr } from '@tunpipe/offload';

/** A packet as a worker sees it: plain data, no methods. */
export interface PacketRecord {
  /** The packet's bytes (the worker owns them). */
  data: Uint8Array;
  /** Device queue index. */
  queue: number;
  /** The virtio-net header, in keep mode. */
  virtioHeader?: VirtioNetHdr;
  /** Nanoseconds since the Unix epoch. */
  timestamp?: bigint;
  /** Application metadata. */
  meta?: unknown;
}

/** What a packet worker function may return. */
export type PacketTaskResult = PacketRecord | Uint8Array | null | undefined;

interface PacketContext {
  queue: number;
  timestamp: bigint | undefined;
  meta: unknown;
}

const packetCodec: TaskCodec<Packet, Packet> = {
  toTask(packet) {
    const data = packet.data.slice(); // a private, non-shared copy
    const record: PacketRecord = { data, queue: packet.queue };
    if (packet.virtioHeader !== undefined) record.virtioHeader = { ...packet.virtioHeader };
    if (packet.timestamp !== undefined) record.timestamp = packet.timestamp;
    if (packet.meta !== undefined) record.meta = packet.meta;
    const context: PacketContext = { queue: packet.queue, timestamp: packet.timestamp, meta: packet.meta };
    return { task: record, transferList: [data.buffer as ArrayBuffer], context };
  },
  fromResult(result, context) {
    if (result === null || result === undefined) return undefined;
    if (result instanceof Uint8Array) {
      const c = context as PacketContext;
      return packetOf(result, { queue: c.queue, timestamp: c.timestamp, meta: c.meta });
    }
    const r = result as PacketRecord;
    return packetOf(r.data, { queue: r.queue, virtioHeader: r.virtioHeader, timestamp: r.timestamp, meta: r.meta });
  },
};

/** A piscina stage for packets: workers get private `PacketRecord` copies; order and bounds as `piscinaStage()`. */
export function piscinaPacketStage(
  workerFile: string | URL,
  options: Omit<PiscinaStageOptions<Packet>, 'transfer'> = {},
): PiscinaStage<Packet, Packet> {
  return new PiscinaStage<Packet, Packet>(workerFile, options, packetCodec);
}
