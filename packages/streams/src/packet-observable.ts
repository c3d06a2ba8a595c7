/**
 * `packetObservable()`: a device's received packets as an RxJS `Observable`.
 *
 * Multicast: the observable is `share()`d, so every subscriber sees every packet
 * and all of them together are one consumer of the device. Reading starts with
 * the first subscription and stops (pending wait abandoned, batches and consumer
 * gate released) when the last one unsubscribes; a later subscription starts
 * reading again. It completes when the device is closed and errors with the
 * device's TunError (ERR_TUN_DEVICE_GONE...) or ERR_TUN_CONSUMER_ACTIVE.
 *
 * Observables have no backpressure: packets are pushed as fast as `next()`
 * returns, a batch at a time. Ownership follows the cursor's rules
 * (packet-cursor.ts): a packet is valid during `next()` and while the retention
 * window lasts; operators that hold packets longer (`delay`, `bufferTime`,
 * async work) need `copy()` or a device opened with `copy: true`.
 */
import { Observable, share } from 'rxjs';
import type { BatchReader } from '@tunpipe/linux-mq';
import type { ConsumerGate } from './consumer-gate.js';
import { PacketCursor, type PacketCursorOptions } from './packet-cursor.js';
import type { Packet } from './packet.js';

/** The shared packet observable of one device. */
export function packetObservable(reader: BatchReader, gate: ConsumerGate, options: PacketCursorOptions): Observable<Packet> {
  return new Observable<Packet>((subscriber) => {
    let lease;
    try {
      lease = gate.claim('packets$');
    } catch (err) {
      subscriber.error(err);
      return undefined;
    }
    const cursor = new PacketCursor(reader, options);
    const abort = new AbortController();
    const stop = (): void => {
      abort.abort();
      cursor.close();
      lease.release();
    };
    const run = async (): Promise<void> => {
      try {
        while (!subscriber.closed) {
          if (!(await cursor.fill(abort.signal))) {
            subscriber.complete();
            return;
          }
          const packets = cursor.packets;
          const n = cursor.count;
          for (let i = 0; i < n && !subscriber.closed; i++) subscriber.next(packets[i]!);
        }
      } catch (err) {
        if (!subscriber.closed) subscriber.error(err);
      } finally {
        stop();
      }
    };
    void run();
    return stop;
  }).pipe(share());
}
