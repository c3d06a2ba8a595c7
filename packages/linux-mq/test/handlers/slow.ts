/**
 * Test handler: spins for `data` milliseconds on every batch that holds a UDP
 * packet to port 7, stalling its worker (to hold the TX ring full); passes all.
 */
import type { HandlerBatch, HandlerContext } from '../../src/handler-api.js';

let stallMs = 0;

export function init(ctx: HandlerContext): void {
  stallMs = Number(ctx.data);
}

export function handle(batch: HandlerBatch): void {
  for (let i = 0; i < batch.count; i++) {
    const p = batch.bufs[i]!;
    const o = batch.offset;
    if (p[o]! >> 4 === 4 && p[o + 9] === 17 && p[o + 20 + 3] === 7 && p[o + 20 + 2] === 0) {
      const end = performance.now() + stallMs;
      while (performance.now() < end);
      return;
    }
  }
}
