/** In-worker handler of `tunpipe relay`: packets read from device 0 go to device 1 and back, by the worker that read them. */
import { Verdict } from '@tunpipe/linux-mq';
import type { HandlerBatch } from '@tunpipe/linux-mq';

const toOther = [Verdict.forward(1), Verdict.forward(0)];

/** Marks the whole batch for the other device. */
export function handle(batch: HandlerBatch): void {
  batch.verdicts.fill(toOther[batch.device]!);
}
