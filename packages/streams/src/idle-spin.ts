/**
 * `spinRead`: what a device consumer does in the moment it catches up with the
 * rings, before it goes to sleep on the doorbell.
 *
 * Sleeping costs a wake-up on each side (the worker rings the doorbell, the main
 * thread's `Atomics.waitAsync` comes back through the event loop); for
 * ping-pong traffic (TCP data and its ACKs through a relay) that is paid on
 * every crossing and shows as round-trip time. So the consumer first publishes
 * every device writer's pending TX slots (the packets it just relayed must not
 * wait for the end of the event-loop turn, nor for the spin), then polls the
 * rings for a bounded time (openTun's `spin`, microseconds; default 0: no spin),
 * and only then sleeps. A spin keeps the main thread busy: worth it only when
 * a core is free for it (it competes with the queue workers otherwise).
 *
 * ```
 * caught up ─► flush TX (all sinks) ─► poll tryRead() ≤ spin µs ─► got one: go on
 *                                                                  └► none: sleep (doorbell)
 * ```
 */

/** Publishes pending TX slots; registered by each device sink while it lives. */
type Flusher = () => void;

const flushers = new Set<Flusher>();

/** Registers a device writer's flush, called before a consumer spins; returns the unregistration. */
export function onIdleFlush(flush: Flusher): () => void {
  flushers.add(flush);
  return () => {
    flushers.delete(flush);
  };
}

/** Publishes every registered writer's pending packets now. */
export function flushWriters(): void {
  for (const f of flushers) f();
}

/**
 * Flushes the writers, then polls `tryRead` until it returns a value or `micros`
 * microseconds passed (0: not at all); returns that value or null.
 */
export function spinRead<T>(tryRead: () => T | null, micros: number): T | null {
  flushWriters();
  if (micros <= 0) return null;
  const deadline = performance.now() + micros / 1000;
  do {
    const got = tryRead();
    if (got !== null) return got;
  } while (performance.now() < deadline);
  return null;
}
