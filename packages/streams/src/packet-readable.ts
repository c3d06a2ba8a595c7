/**
 * `packetReadable()`: a device's received packets as a `ReadableStream<Packet>`
 * (an object stream: byte streams reject SharedArrayBuffer views and would merge
 * packets).
 *
 * The stream has a high-water mark of 0, so it reads from the device only when
 * its consumer asks: each `pull` enqueues the packets the device's cursor has
 * left of its latest batch (taking the next batch from the rings first, waiting
 * while they are empty), and the next `pull` comes once the consumer has read
 * them all. A chunk per packet, a pull per batch: the stream's own cost per
 * packet stays small. Ownership rules: packet-cursor.ts. Piping into a device
 * writable (high-water mark 1) is safe with plain views: each packet is copied
 * into the TX ring before the pipe reads the next. `tee()` reads ahead of its
 * slower branch: tee copies (`copy: true`).
 *
 * Cancelling (a pipe's abort, `break` out of `for await`, `reader.cancel()`)
 * abandons a pending wait at once and gives the consumer gate back, so nothing
 * leaks and the device can be read again. The packets the stream had queued and
 * its reader had not read yet (at most the rest of one batch; none when the
 * reader was waiting) are discarded: a stream cannot tell how far its reader
 * got. Async iteration of the device and `packets$` stop exactly after the
 * packet they last handed out.
 *
 * Piped into another device's writable, the stream's `pipeTo` hands the work to
 * the queue workers (fused-pipe.ts).
 */
import type { ConsumerGate, ConsumerLease } from './consumer-gate.js';
import type { PacketCursor } from './packet-cursor.js';
import type { Packet } from './packet.js';
import { TunReadableStream, type PipeEnd } from './fused-pipe.js';

/**
 * A new readable over the device's `cursor`; `onEnd` runs once when it closes,
 * errors or is cancelled. Its `pipeTo` into another device's writable fuses
 * (fused-pipe.ts); `device` describes this end.
 */
export function packetReadable(cursor: PacketCursor, gate: ConsumerGate, onEnd: () => void, device: PipeEnd): TunReadableStream {
  let lease: ConsumerLease | undefined;
  let ended = false;
  let control: ReadableStreamDefaultController<Packet> | undefined;
  const abort = new AbortController();
  const end = (): void => {
    if (ended) return;
    ended = true;
    lease?.release();
    onEnd();
  };
  return new TunReadableStream(
    {
      start: (controller) => {
        control = controller;
      },
      pull: async (controller) => {
        let more: boolean;
        try {
          lease ??= gate.claim('readable');
          more = await cursor.fill(abort.signal);
        } catch (err) {
          end();
          throw err;
        }
        if (ended) return; // cancelled while waiting: the packets stay with the cursor
        if (!more) {
          end();
          controller.close();
          return;
        }
        for (let p = cursor.next(); p !== undefined; p = cursor.next()) controller.enqueue(p);
      },
      cancel: () => {
        abort.abort();
        end();
      },
    },
    { highWaterMark: 0 },
    device,
    {
      // High-water mark 0: desiredSize is minus the number of queued packets.
      queued: () => Math.max(0, -(control?.desiredSize ?? 0)),
      claim: () => {
        lease ??= gate.claim('readable');
      },
      takeNow: () => cursor.next() ?? (cursor.tryFill() ? cursor.next() : undefined),
      busy: () => cursor.busy,
      releaseAll: () => void cursor.discardRest(),
    },
  );
}
