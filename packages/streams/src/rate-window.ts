/**
 * `rateWindow()`: traffic rates over consecutive fixed windows, as an RxJS operator.
 * Every `windowMs` (from subscription) it emits the packets and bytes seen in the
 * window and the rates over the window's length; empty windows report zeros. When
 * the source completes, a final partial window is emitted if it saw packets (rates
 * over its actual length; 0 if that length is 0).
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';
import type { Packet } from './packet.js';

/** Traffic of one window. */
export interface RateSample {
  /** Window start, in the scheduler's clock (ms). */
  start: number;
  /** Window end (ms). */
  end: number;
  /** Packets in the window. */
  packets: number;
  /** Bytes in the window (packet data lengths). */
  bytes: number;
  /** Packets per second. */
  pps: number;
  /** Bits per second. */
  bps: number;
}

/** Options of `rateWindow()`. */
export interface RateWindowOptions {
  /** Window length in ms. */
  windowMs: number;
  /** Clock and timers (tests pass a TestScheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
}

/** Emits `{ packets, bytes, pps, bps }` for every window of `windowMs`. */
export function rateWindow(options: RateWindowOptions): OperatorFunction<Packet, RateSample> {
  const { windowMs } = options;
  if (!(Number.isFinite(windowMs) && windowMs > 0)) {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `windowMs must be a positive number, got ${String(windowMs)}`);
  }
  const scheduler = options.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<RateSample>((subscriber) => {
      let start = scheduler.now();
      let packets = 0;
      let bytes = 0;
      const emit = (end: number): void => {
        const seconds = (end - start) / 1000;
        const pps = seconds > 0 ? packets / seconds : 0;
        const bps = seconds > 0 ? (bytes * 8) / seconds : 0;
        subscriber.next({ start, end, packets, bytes, pps, bps });
        start = end;
        packets = 0;
        bytes = 0;
      };
      const ticker = scheduler.schedule(function (this: SchedulerAction<undefined>) {
        emit(scheduler.now());
        this.schedule(undefined, windowMs);
      }, windowMs);
      const upstream = source.subscribe({
        next(packet) {
          packets++;
          bytes += packet.data.length;
        },
        error(err: unknown) {
          ticker.unsubscribe();
          subscriber.error(err);
        },
        complete() {
          ticker.unsubscribe();
          if (packets > 0) emit(scheduler.now());
          subscriber.complete();
        },
      });
      return () => {
        ticker.unsubscribe();
        upstream.unsubscribe();
      };
    });
}
