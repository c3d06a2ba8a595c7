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
 */
import type { BatchReader, PacketBatch } from '@tunpipe/linux-mq';
import type { ConsumerGate, ConsumerLease } from './consumer-gate.js';
import { turnBudget, nextTurn } from './turn-budget.js';

/** A new batch stream over `reader`; `onEnd` runs once when it closes, errors or is cancelled. */
export function batchReadable(reader: BatchReader, gate: ConsumerGate, onEnd: () => void): ReadableStream<PacketBatch> {
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
          lease ??= gate.claim('batches');
          previous?.release();
          previous = null;
          if (turnBudget.exhausted) await nextTurn();
          batch = reader.tryRead() ?? (await reader.read({ signal: abort.signal }));
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
