/**
 * Capture taps: record the packets that flow through a pipeline into a
 * `PcapWriter`, unchanged and in order.
 *
 * - `pcapTap(writer)` is a pass-through `TransformStream<Packet, Packet>`: it waits
 *   for the writer when the capture sink is behind (backpressure reaches the
 *   source), and a failing sink fails the stream (a capture never drops silently).
 * - `tapPcap(writer)` is the RxJS operator: observables cannot wait, so it records
 *   with `tryWrite()`; when the sink falls more than `maxPendingBytes` behind,
 *   records are dropped and counted in `writer.stats().dropped`, traffic is not held.
 *
 * Neither closes the writer: one writer may record several streams; close it (or
 * `await using` it) when done.
 */
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { Packet } from './packet.js';
import type { PcapWriter } from './pcap-writer.js';

/** Options of the pcap taps. */
export interface PcapTapOptions {
  /** Records only the packets for which it returns true; all packets still pass. */
  filter?: (packet: Packet) => boolean;
}

/** A pass-through stream stage that records every (or every filtered) packet into `writer`. */
export function pcapTap(writer: PcapWriter, options: PcapTapOptions = {}): TransformStream<Packet, Packet> {
  const filter = options.filter;
  return new TransformStream<Packet, Packet>({
    async transform(packet, controller) {
      if (filter === undefined || filter(packet)) await writer.write(packet);
      controller.enqueue(packet);
    },
  });
}

/** An RxJS operator that records every (or every filtered) packet into `writer` and passes it on. */
export function tapPcap(writer: PcapWriter, options: PcapTapOptions = {}): MonoTypeOperatorFunction<Packet> {
  const filter = options.filter;
  return (source) =>
    new Observable<Packet>((subscriber) =>
      source.subscribe({
        next(packet) {
          if (filter === undefined || filter(packet)) {
            try {
              writer.tryWrite(packet);
            } catch (err) {
              subscriber.error(err);
              return;
            }
          }
          subscriber.next(packet);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
}
