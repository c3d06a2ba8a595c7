/**
 * `ReadinessWaiter`: waits until a non-blocking fd is readable without blocking
 * the event loop and without touching libuv's threadpool.
 *
 * A blocking `read()` on a TUN fd cannot be interrupted from another thread, and
 * koffi `.async` / `fs.read` park one of libuv's four threadpool threads per
 * waiting read (DESIGN.md). Instead a dedicated poll thread (`readiness-thread.ts`)
 * sits in `poll([fd, eventfd], -1)` and reports through a SharedArrayBuffer
 * (`readiness-control.ts`); the owner awaits `Atomics.waitAsync`. The owner then
 * does the non-blocking read itself, into the caller's buffer.
 *
 * One poll thread per waiter (that is, per Device), started on the first wait and
 * stopped by `close()`. Why not one thread shared by the process: a per-device
 * thread needs no registration protocol (fds joining and leaving a shared poll set
 * while it sleeps), its eventfd and lifetime are the device's own, and a device
 * that nobody `recv`s from costs no thread at all. Processes hold a handful of
 * devices; bulk packet paths use linux-mq's queue workers, not this.
 *
 * Waking: `close()`, an aborted signal and a timeout resolve the pending
 * `Atomics.waitAsync` directly with `Atomics.notify` from the owning thread (well
 * under a millisecond); `close()` also writes the eventfd so the poll thread
 * leaves poll() and exits. The poll thread is `unref()`ed while nobody waits, so
 * an idle device never keeps the process alive; while a wait is pending it is
 * `ref()`ed, the way a pending socket read keeps Node running (a pending
 * `Atomics.waitAsync` alone does not).
 */
import { Worker } from 'node:worker_threads';
import { TunError } from '@tunpipe/offload';
import { sys, check } from './libc.js';
import { EFD_CLOEXEC, EFD_NONBLOCK } from './constants.js';
import { Ctl, CTL_SLOTS, CtlState, type ReadinessThreadData } from './readiness-control.js';

/** Options of one wait. */
export interface ReadinessWaitOptions {
  /** Abort the wait: it rejects with `ERR_TUN_ABORTED` whose `cause` is the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Give up after this many milliseconds: rejects with `ERR_TUN_TIMEOUT`. */
  timeout?: number | undefined;
}

/**
 * `Atomics.waitAsync` (ES2024; Node 16+). The workspace compiles against ES2023's
 * lib, so its signature is spelled out here.
 */
const waitAsync = (Atomics as unknown as {
  waitAsync(ta: Int32Array, index: number, value: number, timeout?: number):
    { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}).waitAsync;

/** setTimeout's longest delay; a longer one would fire after 1 ms. */
const MAX_TIMER_MS = 0x7fffffff;

/** The module the poll thread runs. */
const THREAD_MODULE = new URL('./readiness-thread.js', import.meta.url);

/** Waits for POLLIN (or an error condition) on one fd, from any thread, without blocking it. */
export class ReadinessWaiter {
  readonly #fd: number;
  readonly #control = new SharedArrayBuffer(CTL_SLOTS * 4);
  readonly #ctl = new Int32Array(this.#control);
  readonly #kick = new BigUint64Array([1n]);
  #worker: Worker | undefined;
  #eventFd = -1;
  #waiting = 0;
  #closed = false;
  #failure: unknown;
  #stopped: Promise<void> = Promise.resolve();

  /** A waiter for `fd`, which must be non-blocking; no thread starts until the first `wait`. */
  constructor(fd: number) {
    this.#fd = fd;
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while the poll thread exists (started and not yet exited). */
  get threadRunning(): boolean {
    return this.#worker !== undefined;
  }

  /** Resolves when the poll thread has exited and its eventfd is closed (at once if it never started). */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  /**
   * Resolves with the fd's `revents` (POLLIN, or POLLERR/POLLHUP/POLLNVAL when the
   * device is gone) once a poll cycle finished. Rejects with `ERR_TUN_CLOSED`,
   * `ERR_TUN_ABORTED` or `ERR_TUN_TIMEOUT`. Several waits may be pending at once;
   * they share one poll cycle.
   */
  async wait(options: ReadinessWaitOptions = {}): Promise<number> {
    const { signal, timeout } = options;
    if (this.#closed) throw closedError();
    if (signal?.aborted) throw abortedError(signal);
    if (this.#failure !== undefined) throw failedError(this.#failure);
    this.#start();
    const ctl = this.#ctl;
    let target = Atomics.load(ctl, Ctl.request);
    if (Atomics.load(ctl, Ctl.done) === target) {
      target = (target + 1) | 0;
      Atomics.store(ctl, Ctl.request, target);
      Atomics.notify(ctl, Ctl.request);
    }

    let timedOut = false;
    const wake = (): void => {
      Atomics.notify(ctl, Ctl.done);
    };
    const timer = timeout === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          wake();
        }, Math.min(timeout, MAX_TIMER_MS));
    signal?.addEventListener('abort', wake, { once: true });
    if (this.#waiting++ === 0) this.#worker?.ref();
    try {
      for (;;) {
        if (this.#closed) throw closedError();
        if (this.#failure !== undefined) throw failedError(this.#failure);
        if (signal?.aborted) throw abortedError(signal);
        if (timedOut) throw new TunError('ERR_TUN_TIMEOUT', `no packet within ${timeout} ms`);
        const done = Atomics.load(ctl, Ctl.done);
        if (((done - target) | 0) >= 0) return Atomics.load(ctl, Ctl.revents);
        const pending = waitAsync(ctl, Ctl.done, done);
        if (pending.async) await pending.value;
      }
    } finally {
      if (--this.#waiting === 0 && !this.#closed) this.#worker?.unref();
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
    }
  }

  /**
   * Rejects every pending wait with `ERR_TUN_CLOSED` and stops the poll thread.
   * Call it before closing the fd. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ctl = this.#ctl;
    if (this.#worker !== undefined) {
      // Order matters: the eventfd write pulls the thread out of poll(); only
      // after it may the thread see STOPPING and close the eventfd.
      sys.write(this.#eventFd, this.#kick, 8);
      Atomics.store(ctl, Ctl.state, CtlState.stopping);
      Atomics.add(ctl, Ctl.request, 1);
      Atomics.notify(ctl, Ctl.request);
      // Keep the process up for the few milliseconds the thread needs to exit, so
      // its 'exit' event fires and `stopped` resolves.
      this.#worker.ref();
    }
    Atomics.notify(ctl, Ctl.done);
  }

  /** Closes and resolves once the poll thread has exited. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#stopped;
  }

  /** Closes the waiter (the thread exits shortly after; await `stopped` to observe it). */
  [Symbol.dispose](): void {
    this.close();
  }

  #start(): void {
    if (this.#worker !== undefined) return;
    this.#eventFd = check(sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), 'ERR_TUN_WAITER', 'eventfd');
    const data: ReadinessThreadData = { fd: this.#fd, eventFd: this.#eventFd, control: this.#control };
    let worker: Worker;
    try {
      // execArgv: [] keeps the parent's loaders and --import hooks (test runners,
      // coverage) out of this plain-JS thread: inherited, they cost ~0.5 s of startup.
      worker = new Worker(THREAD_MODULE, { workerData: data, execArgv: [], stdout: false, stderr: false });
    } catch (err) {
      sys.close(this.#eventFd);
      this.#eventFd = -1;
      throw new TunError('ERR_TUN_WAITER', 'cannot start the readiness thread', { cause: err });
    }
    worker.unref();
    this.#worker = worker;
    const eventFd = this.#eventFd;
    this.#stopped = new Promise<void>((resolve) => {
      worker.once('error', (err) => {
        this.#failure = err;
        Atomics.notify(this.#ctl, Ctl.done);
      });
      worker.once('exit', () => {
        // The thread closes the eventfd on its way out; if it died before it could, do it here.
        if (Atomics.load(this.#ctl, Ctl.eventClosed) === 0) sys.close(eventFd);
        if (this.#worker === worker) this.#worker = undefined;
        if (!this.#closed && this.#failure === undefined) {
          this.#failure = new Error('readiness thread exited unexpectedly');
        }
        Atomics.notify(this.#ctl, Ctl.done);
        resolve();
      });
    });
  }
}

function failedError(cause: unknown): TunError {
  return new TunError('ERR_TUN_WAITER', 'the readiness thread failed', { cause });
}

function closedError(): TunError {
  return new TunError('ERR_TUN_CLOSED', 'the device is closed');
}

/** An AbortError-like TunError: name `AbortError`, code ERR_TUN_ABORTED, cause = the signal's reason. */
export function abortedError(signal: AbortSignal): TunError {
  const err = new TunError('ERR_TUN_ABORTED', 'the operation was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}
