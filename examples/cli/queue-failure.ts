/**
 * Holding queues until told to stop: resolves on SIGINT/SIGTERM, rejects with
 * the first queue failure linux-mq publishes on `tunpipe:queue:error` (the
 * device or its namespace was deleted under us: ERR_TUN_DEVICE_GONE, a worker
 * died...). The CLI has one queue set per process, so every message is ours.
 */
import diagnostics from 'node:diagnostics_channel';
import { CHANNELS, type QueueSet } from '@tunpipe/linux-mq';
import type { CliIo, OutputPlan } from './command.js';
import { LiveStats, statsStyle } from './live-stats.js';
import { aborted, closeWithin } from './shutdown-signal.js';

/** Waits for `signal` or a queue failure, whichever comes first. */
export async function holdUntilStopped(signal: AbortSignal): Promise<void> {
  let onError: ((message: unknown) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = (message) => reject((message as { error: unknown }).error);
  });
  diagnostics.subscribe(CHANNELS.error, onError!);
  try {
    await Promise.race([aborted(signal), failed]);
  } finally {
    diagnostics.unsubscribe(CHANNELS.error, onError!);
  }
}

/** What {@link serveQueues} needs to show and stop a queue set. */
export interface ServeOptions {
  io: CliIo;
  output: OutputPlan;
  deviceNames: string[];
  signal: AbortSignal;
}

/**
 * The shared tail of `up`, `echo` and `relay`: live stats for `set` until the
 * command is stopped (or a queue fails: closed, then rethrown), then `totals()`
 * read while the set is still open, and the set closed within 4 s.
 */
export async function serveQueues<T>(set: QueueSet, options: ServeOptions, totals: () => T): Promise<{ totals: T; closed: boolean }> {
  const { io, output } = options;
  const stats = new LiveStats({
    out: io.stdout,
    intervalMs: output.intervalMs,
    style: statsStyle(output.json, output.intervalGiven, io.stdout),
    deviceNames: options.deviceNames,
    sample: () => set.stats(),
  }).start();
  try {
    await holdUntilStopped(options.signal);
  } catch (e) {
    stats.stop();
    await closeWithin(() => set.close(), 4000);
    throw e;
  }
  stats.stop();
  const result = totals();
  const closed = await closeWithin(() => set.close(), 4000);
  return { totals: result, closed };
}
