/**
 * An echo service on a TUN device: ICMP echo, ICMPv6 echo and UDP port 7 are
 * answered in the queue workers (echo-handler.ts, verdict TX), so a reply never
 * crosses to the main thread. The device is built in the calling thread's
 * network namespace.
 */
import type { DeviceBuilder } from '@tunpipe/core';
import { openQueues, type QueueSet, type StatTotals } from '@tunpipe/linux-mq';

/** Options of {@link startEcho}. */
export interface EchoServiceOptions {
  /** The device (addresses routed to it are the ones whose pings get answered). */
  device: DeviceBuilder;
  /** Queues (worker threads). Default 1. */
  queues?: number;
}

/** A running echo service. */
export interface EchoService {
  /** The queue set (its `devices[0]` is the core Device). */
  readonly queues: QueueSet;
  /** Counters summed over the queues: `rxPackets` seen, `replied` answered, `handlerDrops` left alone. */
  totals(): StatTotals;
  /** Stops the workers and removes the device (unless persistent). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Creates the device and starts answering. */
export async function startEcho(options: EchoServiceOptions): Promise<EchoService> {
  const queues = options.queues ?? 1;
  const set = await openQueues({
    devices: [queues > 1 ? options.device.multiQueue(true) : options.device],
    queues,
    handler: new URL('./echo-handler.js', import.meta.url),
  });
  return {
    queues: set,
    totals: () => set.totals(0),
    close: () => set.close(),
    [Symbol.asyncDispose]: () => set.close(),
  };
}
