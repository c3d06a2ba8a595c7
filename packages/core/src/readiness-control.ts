/**
 * The shared-memory control block between a `ReadinessWaiter` (the thread that
 * owns a device) and its poll thread (`readiness-thread.ts`).
 *
 * ```
 * Int32Array over a 24-byte SharedArrayBuffer
 *  index  name        written by   meaning
 *  0      request     owner        poll cycles asked for (counter, wraps)
 *  1      done        poll thread  poll cycles finished (counter, wraps; <= request)
 *  2      revents     poll thread  revents of the device fd in the last cycle
 *  3      state       owner        RUNNING, or STOPPING: the poll thread must exit
 *  4      eventClosed poll thread  1 once the poll thread has closed the eventfd
 *  5      pollErrno   poll thread  errno when poll() itself failed, else 0
 * ```
 *
 * The owner bumps `request` and `Atomics.notify`s it; the poll thread, parked in
 * `Atomics.wait(request)`, runs one `poll([fd, eventfd], -1)`, stores `revents`,
 * sets `done = request` and `Atomics.notify`s `done`, which resolves the owner's
 * `Atomics.waitAsync(done)`.
 */

/** Indexes into the control Int32Array. */
export const Ctl = {
  request: 0,
  done: 1,
  revents: 2,
  state: 3,
  eventClosed: 4,
  pollErrno: 5,
} as const;

/** Number of Int32 slots in the control block. */
export const CTL_SLOTS = 6;

/** `Ctl.state` values. */
export const CtlState = {
  running: 0,
  stopping: 1,
} as const;

/** What the owner hands the poll thread as `workerData`. */
export interface ReadinessThreadData {
  /** The device fd to poll for POLLIN (non-blocking; the owner reads it). */
  fd: number;
  /** eventfd the owner writes to pull the poll thread out of poll(); the thread closes it on exit. */
  eventFd: number;
  /** The control block, `CTL_SLOTS` Int32 slots. */
  control: SharedArrayBuffer;
}
