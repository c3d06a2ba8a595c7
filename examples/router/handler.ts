/**
 * The router's in-worker packet handler: loaded by every queue worker of the
 * router's queue set (`openQueues({ handler })`), it routes each packet read from
 * one device to the other without a hop through the main thread:
 *
 * ```
 *  packet from device d ─┬─ not IPv4/IPv6 ........................ DROP
 *                        ├─ multicast / link-local destination ..... DROP (never routed)
 *                        ├─ TTL / hop limit ≤ 1 ─┬─ timeExceeded ... TX   (ICMP Time Exceeded back to the sender)
 *                        │                       └─ otherwise ...... DROP
 *                        └─ TTL - 1, IPv4 checksum updated ......... FORWARD(1 - d)
 * ```
 *
 * Keep mode: superpackets arrive whole with their virtio header and leave whole;
 * only the IP header's TTL and checksum change, which no L4 checksum covers.
 */
import { Verdict, type HandlerBatch, type HandlerContext, type PacketHandler } from '@tunpipe/linux-mq';
import { VIRTIO_NET_HDR_LEN } from '@tunpipe/offload';
import { decrementHopLimit, HopResult, type ChecksumUpdate } from './hop-limit.js';
import { writeTimeExceeded } from './time-exceeded.js';

/** `handlerData` of the router's queue set (structured-cloned into every worker). */
export interface RouterHandlerData {
  /** How the IPv4 header checksum is updated. */
  checksum: ChecksumUpdate;
  /** Answer expired packets with ICMP Time Exceeded (else drop them silently). */
  timeExceeded: boolean;
  /** Per device: the router's own IPv4 (4 bytes) and IPv6 (16 bytes) address on that side, the errors' source. */
  sources: Array<{ v4: number[]; v6: number[] }>;
}

/** Builds this worker's handler from the set's `handlerData`. */
export function init(context: HandlerContext): PacketHandler {
  const data = context.data as RouterHandlerData;
  if (context.devices !== 2) throw new RangeError(`the router handler routes between 2 devices, got ${context.devices}`);
  const update = data.checksum;
  const target = Verdict.forward(1 - context.device);
  const side = data.sources[context.device];
  const v4Source = side ? Uint8Array.from(side.v4) : new Uint8Array(0);
  const v6Source = side ? Uint8Array.from(side.v6) : new Uint8Array(0);
  const answer = data.timeExceeded;
  return (batch: HandlerBatch, verdicts: Uint8Array): void => {
    const at = batch.offset;
    for (let i = 0; i < batch.count; i++) {
      const buf = batch.bufs[i]!;
      const length = batch.lengths[i]!;
      if (!routable(buf, at, length)) {
        verdicts[i] = Verdict.DROP;
        continue;
      }
      const result = decrementHopLimit(buf, at, length, update);
      if (result === HopResult.FORWARD) {
        verdicts[i] = target;
      } else if (result === HopResult.EXPIRED && answer) {
        const reply = writeTimeExceeded(buf, at, length, buf[at]! >> 4 === 4 ? v4Source : v6Source);
        if (reply > 0) {
          // The reply is a plain packet with a complete checksum: a zero virtio header (GSO_NONE, no flags).
          if (batch.hasVirtioHeader(i)) buf.fill(0, at - VIRTIO_NET_HDR_LEN, at);
          batch.lengths[i] = reply;
          verdicts[i] = Verdict.TX;
        } else {
          verdicts[i] = Verdict.DROP;
        }
      } else {
        verdicts[i] = Verdict.DROP;
      }
    }
  };
}

/**
 * False for what a router never forwards: multicast and broadcast (IPv4
 * 224.0.0.0/3 and up, IPv6 ff00::/8) and link-local destinations
 * (169.254.0.0/16, fe80::/10), e.g. the router solicitations and MLD reports a
 * fresh IPv6 interface sends.
 */
function routable(buf: Uint8Array, at: number, length: number): boolean {
  if (length < 20) return false;
  const version = buf[at]! >> 4;
  if (version === 4) {
    const d0 = buf[at + 16]!;
    return d0 < 224 && !(d0 === 169 && buf[at + 17] === 254);
  }
  if (version === 6) {
    if (length < 40) return false;
    const d0 = buf[at + 24]!;
    return d0 !== 0xff && !(d0 === 0xfe && (buf[at + 25]! & 0xc0) === 0x80);
  }
  return false;
}
