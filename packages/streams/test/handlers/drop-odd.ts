/**
 * Test handler: drops the UDP datagrams to port 9000 (from udp-burst) whose
 * sequence number is odd, passes everything else. IPv4 without options only.
 */
import { Verdict, type HandlerBatch } from '@tunpipe/linux-mq';

export function handle(batch: HandlerBatch): void {
  const o = batch.offset;
  for (let i = 0; i < batch.count; i++) {
    const p = batch.bufs[i]!;
    if (p[o]! !== 0x45 || p[o + 9] !== 17 || ((p[o + 22]! << 8) | p[o + 23]!) !== 9000) continue;
    if ((p[o + 28 + 3]! & 1) === 1) batch.verdicts[i] = Verdict.DROP;
  }
}
