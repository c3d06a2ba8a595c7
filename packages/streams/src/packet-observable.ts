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
 * returns, a batch at a time. A subscriber that unsubscribes in the middle of a
 * batch (`take(n)`) leaves the rest to the device's next consumer. Ownership
 * follows the cursor's rules
 * (packet-cursor.ts): a packet is valid during `next()` and while the retention
 * window lasts; operators that hold packets longer (`toArray`, `bufferCount`
 * beyond `retain`, `delay`, `bufferTime`, async work) need `map(p => p.copy())`
 * before them, or a device opened with `copy: true`: a view kept past the
 * window shows whatever the worker wrote into its slot since.
 */
import { Observable, share } from 'rxjs';
import type { ConsumerGate } from './consumer-gate.js';
import type { PacketCursor } from './packet-cursor.js';
import type { Packet } from './packet.js';

/** The shared packet observable of one device. */
export function packetObservable(cursor: PacketCursor, gate: ConsumerGate): Observable<Packet> {
  return new Observable<Packet>((subscriber) => {
    let lease;
    try {
      lease = gate.claim('packets$');
    } catch (err) {
      subscriber.error(err);
      return undefined;
    }
    const abort = new AbortController();
    const stop = (): void => {
      abort.abort();
      lease.release();
    };
    const run = async (): Promise<void> => {
      try {
        while (!subscriber.closed) {
          const packet = cursor.next();
          if (packet !== undefined) {
            subscriber.next(packet);
          } else if (!(await cursor.fill(abort.signal))) {
            subscriber.complete();
            return;
          }
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
