/**
 * Test handler for the worker pool: counts `init()` calls in module state and
 * throws on every UDP packet with that count and the set's handlerData, so a
 * handler error event shows which set's job it is and how many jobs the thread's
 * copy of the module has served.
 */
import type { HandlerBatch, HandlerContext } from '../../src/handler-api.js';

let inits = 0;
let data: unknown;

export function init(ctx: HandlerContext): void {
  inits++;
  data = ctx.data;
}

export function handle(batch: HandlerBatch): void {
  for (let i = 0; i < batch.count; i++) {
    const p = batch.bufs[i]!;
    const o = batch.offset;
    if (p[o]! >> 4 === 4 && p[o + 9] === 17) throw new Error(`inits=${inits} data=${String(data)}`);
  }
}
