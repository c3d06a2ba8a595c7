/**
 * `QueueControl`: the per-queue control block shared by the main thread and the
 * queue's worker. The worker never returns to its event loop (it lives in
 * `poll()`), so it cannot receive messages: every request from the main thread
 * is a word in this block plus a write to the worker's eventfd.
 *
 * ```
 *   0 ┌──────────────────────────────┐
 *     │ STOP      i32  main → worker │  1 = leave the loop (close)
 *  64 ├──────────────────────────────┤
 *     │ ATTACHED  i32  worker → all  │  1 while the queue is attached (forwarders read it)
 * 128 ├──────────────────────────────┤
 *     │ REQ_SEQ i32, REQ_OP i32      │  main → worker: a queue command (QueueOp; REDIRECT's target
 *     │                              │  comes as a RedirectMessage on the worker's port)
 * 192 ├──────────────────────────────┤
 *     │ DONE_SEQ i32, RESULT i32     │  worker → main: REQ_SEQ done; 0 or errno
 * 256 ├──────────────────────────────┤
 *     │ SLEEPING i32                 │  worker → main: about to sleep in poll()
 * 320 ├──────────────────────────────┤
 *     │ LIFE i32                     │  STARTING / RUNNING / EXITED
 * 384 └──────────────────────────────┘
 * ```
 */
import { CACHE_LINE } from './slot-ring.js';

const L = CACHE_LINE / 4;
/** Int32 index: 1 asks the worker to leave its loop. */
export const STOP = 0;
/** Int32 index: 1 while the queue is attached to its device. */
export const ATTACHED = 1 * L;
/** Int32 index: sequence number of the latest request. */
export const REQ_SEQ = 2 * L;
/** Int32 index: the operation of the latest request (QueueOp). */
export const REQ_OP = 2 * L + 1;
/** Int32 index: sequence number of the latest completed request. */
export const DONE_SEQ = 3 * L;
/** Int32 index: result of the latest completed request (0 or errno). */
export const RESULT = 3 * L + 1;
/** Int32 index: 1 while the worker sleeps (or is about to) in poll(); writers of TX then kick its eventfd. */
export const SLEEPING = 4 * L;
/** Int32 index: the worker's life cycle (WorkerLife). */
export const LIFE = 5 * L;
/** Bytes of one control block. */
export const QUEUE_CONTROL_BYTES = 6 * CACHE_LINE;

/** Requests the main thread can make of a queue worker. */
export const QueueOp = {
  /** Re-attach the queue to its device (TUNSETQUEUE IFF_ATTACH_QUEUE). */
  ATTACH: 1,
  /** Detach the queue (TUNSETQUEUE IFF_DETACH_QUEUE): the kernel stops steering packets to it. */
  DETACH: 2,
  /** Stop reading the fd (the RX ring keeps what was published; TX and requests go on): the first step of an RX redirect. */
  HOLD: 3,
  /** Send what would be passed to the main thread to another set's device (the target comes as a RedirectMessage); resumes reading. */
  REDIRECT: 4,
  /** End a redirect (and a hold): once acknowledged the worker never writes to the target's fds again. */
  UNREDIRECT: 5,
} as const;

/** Life cycle of a queue worker, at LIFE. */
export const WorkerLife = {
  /** Thread started, loop not entered yet. */
  STARTING: 0,
  /** In its loop. */
  RUNNING: 1,
  /** Loop left; the worker no longer touches any fd. */
  EXITED: 2,
} as const;

/** The control block of one queue (a view over shared memory). */
export class QueueControl {
  /** The shared memory. */
  readonly buffer: SharedArrayBuffer;
  /** The control words. */
  readonly words: Int32Array;

  /** A new control block (queue attached), or a view of an existing one. */
  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(QUEUE_CONTROL_BYTES);
    this.words = new Int32Array(this.buffer, 0, QUEUE_CONTROL_BYTES / 4);
    if (buffer === undefined) this.words[ATTACHED] = 1;
  }

  /** True while the queue is attached. */
  get attached(): boolean {
    return Atomics.load(this.words, ATTACHED) === 1;
  }

  /** True once stop was requested. */
  get stopRequested(): boolean {
    return Atomics.load(this.words, STOP) !== 0;
  }

  /** The worker's life cycle state (WorkerLife). */
  get life(): number {
    return Atomics.load(this.words, LIFE);
  }
}
