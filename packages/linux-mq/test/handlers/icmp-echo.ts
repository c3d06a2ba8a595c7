/**
 * Test handler: answers IPv4 ICMP echo requests in the worker (TX verdict),
 * drops UDP to port 9 (discard), throws on UDP to port 13 (a handler bug), and
 * passes everything else to the main thread.
 */
import { internetChecksum } from '@tunpipe/offload';
import { Verdict } from '../../src/verdict.js';
import type { HandlerBatch, HandlerContext } from '../../src/handler-api.js';

let replies = 0;
let context: HandlerContext | undefined;

export function init(ctx: HandlerContext): void {
  context = ctx;
}

export function handle(batch: HandlerBatch): void {
  for (let i = 0; i < batch.count; i++) {
    const p = batch.bufs[i]!;
    const o = batch.offset;
    if (p[o]! >> 4 !== 4) continue;
    const ihl = (p[o]! & 15) * 4;
    const proto = p[o + 9]!;
    if (proto === 17) {
      const dport = (p[o + ihl + 2]! << 8) | p[o + ihl + 3]!;
      if (dport === 9) batch.verdicts[i] = Verdict.DROP;
      if (dport === 13) throw new Error(`handler bug on queue ${context?.queue} (${String(context?.data)})`);
      continue;
    }
    if (proto !== 1 || p[o + ihl]! !== 8) continue;
    for (let k = 0; k < 4; k++) {
      const a = p[o + 12 + k]!;
      p[o + 12 + k] = p[o + 16 + k]!;
      p[o + 16 + k] = a;
    }
    const icmp = o + ihl;
    const len = batch.lengths[i]!;
    p[icmp] = 0;
    p[icmp + 2] = 0;
    p[icmp + 3] = 0;
    const c = internetChecksum(p, icmp, o + len);
    p[icmp + 2] = c >> 8;
    p[icmp + 3] = c & 0xff;
    batch.verdicts[i] = Verdict.TX;
    replies++;
  }
  void replies;
}
