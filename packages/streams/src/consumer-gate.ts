/**
 * `ConsumerGate`: one packet consumer per device at a time.
 *
 * A device's received packets come from one `BatchReader`; two consumers reading
 * it at once would each get an arbitrary share of the traffic, which no caller
 * wants. So `readable`, `batches`, `packets$` and async iteration each hold the
 * gate while they read: from their first read (subscription, first `next()`)
 * until they end (cancelled, closed, errored, unsubscribed, loop left). Starting
 * another meanwhile fails with TunError ERR_TUN_CONSUMER_ACTIVE naming the holder.
 * `packets$` is multicast (`share()`): all its subscribers together are one consumer.
 */
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';

/** The names of a device's packet consumers, as error messages show them. */
export type ConsumerKind = 'readable' | 'batches' | 'packets$' | 'async iterator';

/** Proof of holding the gate; `release()` gives it back (idempotent). */
export interface ConsumerLease {
  /** Gives the gate back. Further calls do nothing. */
  release(): void;
}

/** The one-consumer-at-a-time rule of one device. */
export class ConsumerGate {
  private holder: ConsumerKind | undefined;
  private lease: ConsumerLease | undefined;

  /** The consumer holding the gate, if any. */
  get active(): ConsumerKind | undefined {
    return this.holder;
  }

  /** Takes the gate for `kind`; throws ERR_TUN_CONSUMER_ACTIVE when another consumer holds it. */
  claim(kind: ConsumerKind): ConsumerLease {
    if (this.holder !== undefined) {
      throw new TunError(
        StreamErrorCode.CONSUMER_ACTIVE,
        `cannot start reading with ${kind}: the device's ${this.holder} is reading (one consumer at a time; cancel it first)`,
      );
    }
    this.holder = kind;
    const lease: ConsumerLease = {
      release: () => {
        if (this.lease !== lease) return;
        this.lease = undefined;
        this.holder = undefined;
      },
    };
    this.lease = lease;
    return lease;
  }
}
