/** Test handler: forwards everything from device 0 to device 1 and back (a relay). */
import { Verdict } from '../../src/verdict.js';
import type { HandlerBatch } from '../../src/handler-api.js';

export function handle(batch: HandlerBatch): void {
  batch.verdicts.fill(Verdict.forward(1 - batch.device));
}
