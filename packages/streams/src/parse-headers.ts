/**
 * `parseHeaders()`: packets to their typed headers (offload's wire views), as an
 * RxJS operator. A malformed packet never errors or ends the stream: it is left
 * out, counted in `counters.malformed` and reported to `onMalformed`; Ethernet
 * frames without IP are left out and counted in `counters.nonIp`.
 *
 * The headers are views into the packet's bytes: valid as long as the packet is.
 */
import { map, filter, pipe, type OperatorFunction } from 'rxjs';
import type { TunError } from '@tunpipe/offload';
import { checkLinkLayer, tryParsePacket, type LinkLayer, type PacketHeaders, type ParseCounters } from './packet-headers.js';
import type { Packet } from './packet.js';

/** Options of `parseHeaders()`. */
export interface ParseHeadersOptions {
  /** What packets start with: 'ip' (TUN, default) or 'ethernet' (TAP). */
  link?: LinkLayer;
  /** Counters of parsed, malformed and non-IP packets (incremented in place). */
  counters?: ParseCounters;
  /** Called with each malformed packet and the reason. */
  onMalformed?: (packet: Packet, error: TunError) => void;
}

/** Maps packets to their parsed headers; malformed packets are counted and left out. */
export function parseHeaders(options: ParseHeadersOptions = {}): OperatorFunction<Packet, PacketHeaders> {
  const link = options.link ?? 'ip';
  checkLinkLayer(link);
  return pipe(
    map((packet: Packet) => tryParsePacket(packet, link, options.counters, options.onMalformed)),
    filter((headers): headers is PacketHeaders => headers !== undefined),
  );
}
