/**
 * `packetReadable()`: a device's received packets as a `ReadableStream<Packet>`
 * (an object stream: byte streams reject SharedArrayBuffer views and would merge
 * packets).
 *
 * The stream has a high-water mark of 0, so it reads from the device only when
 * its consumer asks: each `pull` takes one batch from the rings (waiting while
 * they are empty) and enqueues all its packets, and the next `pull` comes once
 * the consumer has read them all. That is also the moment the `PacketCursor`
 * counts them as read and releases older batches (ownership rules in
 * packet-cursor.ts). Piping into a device writable (high-water mark 1) is safe
 * with plain views: each packet is copied into the TX ring before the pipe reads
 * the next. `tee()` reads ahead of its slower branch: tee copies (`copy: true`).
 *
 * Cancelling (a pipe's abort, `break` out of `for await`, `reader.cancel()`)
 * abandons a pending wait at once, releases every held batch and the consumer
 * gate, so nothing leaks and the device can be read again.
 */
import type { BatchReader } from '@tunpipe/linux-mq';
import type { ConsumerGate, ConsumerLease } from './consumer-gate.js';
import { PacketCursor, type PacketCursorOptions } from './packet-cursor.js';
import type { Packet } from './packet.js';

/** A new readable over `reader`; `onEnd` runs once when it closes, errors or is cancelled. */
export function packetReadable(
  reader: BatchReader,
  gate: ConsumerGate,
  options: PacketCursorOptions,
  onEnd: () => void,
): ReadableStream<Packet> {
  let cursor: PacketCursor | undefined;
  let lease: ConsumerLease | undefined;
  let ended = false;
  const abort = new AbortController();
  const end = (): void => {
    if (ended) return;
    ended = true;
    cursor?.close();
    lease?.release();
    onEnd();
  };
  return new ReadableStream<Packet>(
    {
      pull: async (controller) => {
        let more: boolean;
        try {
          lease ??= gate.claim('readable');
          cursor ??= new PacketCursor(reader, options);
          more = await cursor.fill(abort.signal);
        } catch (err) {
          end();
          throw err;
        }
        if (!more) {
          end();
          controller.close();
          return;
        }
        const packets = cursor.packets;
        const n = cursor.count;
        for (let i = 0; i < n; i++) controller.enqueue(packets[i]!);
      },
      cancel: () => {
        abort.abort();
        end();
      },
    },
    { highWaterMark: 0 },
  );
}
