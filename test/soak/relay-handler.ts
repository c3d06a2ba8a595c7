/**
 * The in-worker handler of the soak relay. UDP devices (0, 1) pass everything to
 * the main thread (which relays device 0's datagrams to device 1); TCP devices
 * (2, 3) forward to each other inside the workers. Two faults are injected here,
 * through a shared control array the main thread writes:
 *
 * ```
 * control (Int32Array over handlerData.control)
 *  [0..3]  THROW_BASE + d  batches of device d still to fail with an exception
 *  [4..7]  STALL_BASE + d  milliseconds the next batch of device d spins (a stalled worker)
 * ```
 */
import { Verdict, type HandlerBatch, type HandlerContext } from '@tunpipe/linux-mq';

/** Index of device d's pending-exceptions word. */
export const THROW_BASE = 0;
/** Index of device d's pending-stall word. */
export const STALL_BASE = 4;
/** Words in the control array. */
export const CONTROL_WORDS = 8;

let control: Int32Array<ArrayBufferLike> = new Int32Array(CONTROL_WORDS);

/** Takes the control array from handlerData. */
export function init(ctx: HandlerContext): void {
  control = new Int32Array((ctx.data as { control: SharedArrayBuffer }).control);
}

function takeOne(i: number): boolean {
  for (;;) {
    const n = Atomics.load(control, i);
    if (n <= 0) return false;
    if (Atomics.compareExchange(control, i, n, n - 1) === n) return true;
  }
}

/** Per batch: injected faults first, then the relay verdicts. */
export function handle(batch: HandlerBatch): void {
  const d = batch.device;
  if (takeOne(THROW_BASE + d)) throw new Error(`soak: injected handler exception (device ${d} queue ${batch.queue})`);
  const stall = Atomics.exchange(control, STALL_BASE + d, 0);
  if (stall > 0) {
    const end = performance.now() + stall;
    while (performance.now() < end);
  }
  if (d >= 2) batch.verdicts.fill(Verdict.forward(d === 2 ? 3 : 2));
}
