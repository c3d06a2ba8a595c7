/** In-worker handler of `tunpipe up`: every packet is counted by the worker and dropped (nobody reads the rings). */
import { Verdict } from '@tunpipe/linux-mq';
import type { HandlerBatch } from '@tunpipe/linux-mq';

/** Drops the whole batch. */
export function handle(batch: HandlerBatch): void {
  batch.verdicts.fill(Verdict.DROP);
}
