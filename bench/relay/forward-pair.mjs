/**
 * In-worker handler of the relay benchmark: every packet read from device 0 is
 * forwarded to device 1 and vice versa, by the worker that read it (write(2) on
 * the target queue's fd; no hop through the main thread).
 */
import { Verdict } from '@tunpipe/linux-mq';

const toDevice = [Verdict.forward(1), Verdict.forward(0)];

/** Marks the whole batch for the other device. */
export function handle(batch) {
  batch.verdicts.fill(toDevice[batch.device]);
}
