/**
 * `Doorbell`: one shared counter a consumer sleeps on while it waits for any of
 * several rings (all queues of a device). Producers ring it only when a ring's
 * CONSUMER_WAITING flag tells them somebody sleeps, so a busy consumer costs them
 * nothing but one `Atomics.load` per published batch.
 *
 * ```
 *  0  ┌───────────────────────┐
 *     │ SEQ i32 (rings so far)│  Atomics.waitAsync(SEQ, seen) on the main thread
 * 64  └───────────────────────┘
 * ```
 */
import { waitAsync } from './wait-async.js';

const SEQ = 0;
/** Bytes of a doorbell (one cache line). */
export const DOORBELL_BYTES = 64;

/** A wake-up counter in shared memory. */
export class Doorbell {
  /** The shared memory (send it to the producers). */
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;

  /** A new doorbell, or one attached to `buffer` from another thread. */
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(DOORBELL_BYTES)) {
    this.buffer = buffer;
    this.words = new Int32Array(buffer, 0, DOORBELL_BYTES / 4);
  }

  /** The current count; pass it to `wait` after re-checking the rings. */
  get sequence(): number {
    return Atomics.load(this.words, SEQ);
  }

  /** Wakes every waiter (producer side, or `close()`/abort on the consumer side). */
  ring(): void {
    Atomics.add(this.words, SEQ, 1);
    Atomics.notify(this.words, SEQ);
  }

  /**
   * Resolves once the count differs from `seen` (at once if it already does), or
   * when `signal` aborts (the caller checks the signal).
   */
  async wait(seen: number, signal?: AbortSignal): Promise<void> {
    const r = waitAsync(this.words, SEQ, seen);
    if (!r.async) return;
    if (signal === undefined) {
      await r.value;
      return;
    }
    if (signal.aborted) {
      this.ring();
      await r.value;
      return;
    }
    const onAbort = (): void => this.ring();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await r.value;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
