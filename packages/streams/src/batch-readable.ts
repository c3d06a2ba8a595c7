/**
 * `batchReadable()`: a device's received packets as a `ReadableStream` of
 * linux-mq `PacketBatch`es, for consumers that want the lowest cost per packet
 * (one stream chunk per batch of up to `maxBatch` packets, views into the ring).
 *
 * A batch is valid until the consumer reads the next one (the stream then
 * releases it) or calls `batch.release()` itself, whichever comes first; its
 * packets' views die with it (`batch.copy(i)` to keep one). High-water mark 0:
 * the stream takes a batch from the rings only when asked. Cancelling abandons a
 * pending wait and releases the batch and the consumer gate.
 *
 * Batches come straight from the rings, past the device's packet cursor: when a
 * batch consumer starts, packets the cursor still had for a packet consumer
 * that walked away mid-batch are dropped (counted in `stats().discarded`).
 */
import type { BatchReader, PacketBatch } from '@tunpipe/linux-mq';
import type { ConsumerGate, ConsumerLease } from './consumer-gate.js';
import type { PacketCursor } from './packet-cursor.js';
import { turnBudget, nextTurn } from './turn-budget.js';
import { spinRead } from './idle-spin.js';

/**
 * A new batch stream over `reader`; `onDiscard(n)` counts packets dropped from
 * `cursor` when it starts, `onEnd` runs once when it closes, errors or is cancelled;
 * `spin`: microseconds to poll the rings before sleeping (idle-spin.ts).
 */
export function batchReadable(
  reader: BatchReader,
  cursor: PacketCursor,
  gate: ConsumerGate,
  onDiscard: (packets: number) => void,
  onEnd: () => void,
  spin = 0,
): ReadableStream<PacketBatch> {
  const tryRead = (): PacketBatch | null => reader.tryRead();
  let lease: ConsumerLease | undefined;
  let previous: PacketBatch | null = null;
  let ended = false;
  const abort = new AbortController();
  const end = (): void => {
    if (ended) return;
    ended = true;
    previous?.release();
    previous = null;
    lease?.release();
    onEnd();
  };
  return new ReadableStream<PacketBatch>(
    {
      pull: async (controller) => {
        let batch: PacketBatch | null;
        try {
          if (lease === undefined) {
            lease = gate.claim('batches');
            await cursor.idle();
            onDiscard(cursor.discardRest());
          }
          previous?.release();
          previous = null;
          if (turnBudget.exhausted) await nextTurn();
          batch = reader.tryRead() ?? spinRead(tryRead, spin) ?? (await reader.read({ signal: abort.signal }));
        } catch (err) {
          end();
          throw err;
        }
        if (batch === null) {
          end();
          controller.close();
          return;
        }
        if (ended) {
          batch.release();
          return;
        }
        previous = batch;
        turnBudget.spend(batch.count);
        controller.enqueue(batch);
      },
      cancel: () => {
        abort.abort();
        end();
      },
    },
    { highWaterMark: 0 },
  );
}
