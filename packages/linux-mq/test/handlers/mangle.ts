/**
 * Test handler: reflects UDP datagrams to port 7000 back to their sender (TX
 * verdict, addresses and ports swapped: the checksums stay valid), after
 * mangling them as their first payload byte says (`MangleKind`): lengths out of
 * the slot, an IP total length that lies, non-IP bytes, an unknown verdict, a
 * virtio header that lies (keep mode). Everything else passes. With
 * `handlerData: 'forward'` the datagrams leave through device 1 (FORWARD verdict)
 * instead of their own (TX).
 */
import { Verdict } from '../../src/verdict.js';
import type { HandlerBatch, HandlerContext } from '../../src/handler-api.js';

/** The verdict of a reflected datagram: TX, or FORWARD to device 1. */
let out: number = Verdict.TX;

export function init(context: HandlerContext): void {
  if (context.data === 'forward') out = Verdict.forward(1);
}

/** What the handler does to a datagram, by its first payload byte. */
export const MangleKind = {
  /** Reflected intact: the sender gets it back. */
  REFLECT: 0,
  /** Length set to 0. */
  ZERO_LENGTH: 1,
  /** Length set past the slot's capacity. */
  PAST_CAPACITY: 2,
  /** Length set negative. */
  NEGATIVE_LENGTH: 3,
  /** IPv4 total length set to 1000 (more than the packet). */
  TOTAL_LENGTH_LIE: 4,
  /** First byte 0x07: not IP. */
  NOT_IP: 5,
  /** Verdict 250: a forward to a device that does not exist. */
  NO_SUCH_DEVICE: 6,
  /** Virtio header rewritten to GSO UDP with gso_size 0 (keep mode only; else reflected intact). */
  GSO_LIE: 7,
} as const;

export function handle(batch: HandlerBatch): void {
  const o = batch.offset;
  for (let i = 0; i < batch.count; i++) {
    const p = batch.bufs[i]!;
    if (p[o]! !== 0x45 || p[o + 9]! !== 17) continue;
    const udp = o + 20;
    if (((p[udp + 2]! << 8) | p[udp + 3]!) !== 7000) continue;
    // Swap addresses and ports (sums are order-independent: checksums stay valid).
    for (let k = 0; k < 4; k++) [p[o + 12 + k], p[o + 16 + k]] = [p[o + 16 + k]!, p[o + 12 + k]!];
    for (let k = 0; k < 2; k++) [p[udp + k], p[udp + 2 + k]] = [p[udp + 2 + k]!, p[udp + k]!];
    batch.verdicts[i] = out;
    switch (p[udp + 8]) {
      case MangleKind.ZERO_LENGTH:
        batch.lengths[i] = 0;
        break;
      case MangleKind.PAST_CAPACITY:
        batch.lengths[i] = batch.capacity + 1;
        break;
      case MangleKind.NEGATIVE_LENGTH:
        batch.lengths[i] = -5;
        break;
      case MangleKind.TOTAL_LENGTH_LIE:
        p[o + 2] = 1000 >> 8;
        p[o + 3] = 1000 & 0xff;
        break;
      case MangleKind.NOT_IP:
        p[o] = 0x07;
        break;
      case MangleKind.NO_SUCH_DEVICE:
        batch.verdicts[i] = 250;
        break;
      case MangleKind.GSO_LIE:
        if (batch.hasVirtioHeader(i)) {
          // struct virtio_net_hdr, <linux/virtio_net.h>: NEEDS_CSUM, GSO_UDP_L4, hdr_len 28, gso_size 0.
          p.fill(0, 0, 10);
          p[0] = 1;
          p[1] = 5;
          p[2] = 28;
          p[6] = 20;
          p[8] = 6;
        }
        break;
    }
  }
}
