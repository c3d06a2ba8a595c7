/**
 * In-worker handler that answers ICMP/ICMPv6 echo and UDP echo (port 7): the
 * worker that read the request rewrites it into the reply in its RX slot and
 * sends it back out of the same queue (verdict TX); everything else is dropped.
 * `replyInPlace` builds no strings: nothing is allocated per packet but the wire views.
 * Used by the echo example and `tunpipe echo`.
 */
import { Verdict } from '@tunpipe/linux-mq';
import type { HandlerBatch } from '@tunpipe/linux-mq';
import { replyInPlace } from './responder.js';

/** Turns each echo request of the batch into its reply (TX); drops the rest. */
export function handle(batch: HandlerBatch): void {
  for (let i = 0; i < batch.count; i++) {
    const packet = batch.bufs[i]!.subarray(batch.offset, batch.offset + batch.lengths[i]!);
    const replyLength = replyInPlace(packet);
    if (replyLength > 0) {
      batch.lengths[i] = replyLength;
      batch.verdicts[i] = Verdict.TX;
    } else {
      batch.verdicts[i] = Verdict.DROP;
    }
  }
}
