/**
 * `turnBudget`: how much packet work the main thread does before it lets the
 * event loop turn.
 *
 * While packets keep arriving, a reader never really waits: every read resolves
 * from the ring at once, so a stream's pull, a pipe or an async loop runs from
 * microtask to microtask and timers, I/O callbacks and `setImmediate` (where the
 * device writers publish their TX rings) would never run. Every device consumer
 * counts the packets it hands out here; once this turn of the event loop has seen
 * `PACKETS_PER_TURN` of them, the next read first waits for `setImmediate`.
 *
 * ```
 * turn n:  read read read ... (1024 packets) ─► await setImmediate ─┐
 *                                       timers, I/O, TX flushes run ◄┘
 * turn n+1: read read ...
 * ```
 *
 * One budget for the process: every device's consumers share the thread. 1024
 * packets are 0.1-1 ms of main-thread work (bench/streams/consumer-cost.mjs):
 * timers stay prompt, and a turn (~2.5 µs of CPU) costs under 3 ns per packet
 * (it was a quarter of the `batches` stream's own cost at 256).
 */

/** Packets handed out in one event-loop turn before consumers yield. */
export const PACKETS_PER_TURN = 1024;

/** The process-wide count of packets handed out in the current event-loop turn. */
class TurnBudget {
  private spent = 0;
  private armed = false;
  private readonly reset = (): void => {
    this.armed = false;
    this.spent = 0;
  };

  /** Counts `packets` handed out in this turn. */
  spend(packets: number): void {
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.reset);
    }
    this.spent += packets;
  }

  /** True once this turn's budget is used up: the caller should `await nextTurn()` before reading more. */
  get exhausted(): boolean {
    return this.spent >= PACKETS_PER_TURN;
  }
}

/** The shared budget. */
export const turnBudget = new TurnBudget();

/** Resolves in the check phase of the event loop (after timers and I/O had their turn). */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
