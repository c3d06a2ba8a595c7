/**
 * Holding queues until told to stop: resolves on SIGINT/SIGTERM, rejects with
 * the first queue failure linux-mq publishes on `tunpipe:queue:error` (the
 * device or its namespace was deleted under us: ERR_TUN_DEVICE_GONE, a worker
 * died...). The CLI has one queue set per process, so every message is ours.
 */
import diagnostics from 'node:diagnostics_channel';
import { CHANNELS } from '@tunpipe/linux-mq';
import { aborted } from './shutdown-signal.js';

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
