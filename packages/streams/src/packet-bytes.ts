/**
 * `packetBytes()`: a `TransformStream<Packet, Uint8Array>` for sinks that take
 * plain packet bytes, such as the `writable` of a userspace TCP/IP stack:
 *
 * ```ts
 * tun.readable.pipeThrough(packetBytes()).pipeTo(stack.writable);  // device → stack
 * stack.readable.pipeTo(tun.writable);                             // stack → device (Uint8Arrays accepted)
 * ```
 *
 * By default each packet's bytes are copied (the sink owns them, however long it
 * keeps them); `{ copy: false }` passes the ring view itself, for sinks that are
 * done with a chunk when their `write()` returns.
 */
import type { Packet } from './packet.js';

/** Options of `packetBytes()`. */
export interface PacketBytesOptions {
  /** Copy the bytes out of ring memory. Default true. */
  copy?: boolean;
}

/** Maps packets to their bytes (copied unless `copy: false`). */
export function packetBytes(options: PacketBytesOptions = {}): TransformStream<Packet, Uint8Array> {
  const copy = options.copy ?? true;
  return new TransformStream<Packet, Uint8Array>({
    transform(packet, controller) {
      controller.enqueue(copy ? packet.data.slice() : packet.data);
    },
  });
}
