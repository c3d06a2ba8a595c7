/**
 * What the main thread hands a queue worker at start (`workerData`, structured
 * clone: numbers and SharedArrayBuffers only) and the messages a worker posts
 * back. Requests in the other direction go through shared memory
 * (`queue-control.ts`), because a worker that sits in `poll()` never reads its
 * message port.
 */
import type { SlotRingDescriptor } from './slot-ring.js';
import type { ReadsOption, ReadPath } from './uring-reads.js';

/** How packets of an offload (IFF_VNET_HDR) device reach the ring. */
export type QueueMode = 'split' | 'keep';

/** What to do when the in-worker handler throws. */
export type HandlerErrorPolicy = 'drop' | 'pass' | 'fatal';

/** What a worker knows about each device of the set (its own included), for TX and forwarding. */
export interface PeerDevice {
  /** Reads and writes carry a 10-byte virtio_net_hdr. */
  vnetHdr: boolean;
  /** The kernel accepts TCP superpackets from us (TSO4/TSO6 on): coalesce TCP with GRO. */
  tcpGso: boolean;
  /** The kernel accepts UDP superpackets from us (USO4/USO6 on): coalesce UDP too. */
  udpGso: boolean;
  /** The fd of each queue (process-wide numbers; owned by the main thread). */
  fds: number[];
  /** The QueueControl buffer of each queue (to see which are attached). */
  controls: SharedArrayBuffer[];
}

/** The handler module and its options. */
export interface HandlerSpec {
  /** `file:` URL (or bare specifier) of the module, for `import()`. */
  url: string;
  /** Passed to the module's `init(context)` (structured clone). */
  data: unknown;
}

/** `workerData` of a queue worker. */
export interface QueueWorkerData {
  /** Index of the device in the set. */
  device: number;
  /** Queue index within the device. */
  queue: number;
  /** Number of queues per device. */
  queues: number;
  /** The queue's TUN fd (non-blocking). */
  fd: number;
  /** The worker's eventfd (non-blocking): written to wake it. */
  eventFd: number;
  /** Split or keep superpackets (only matters when the device has a virtio header). */
  mode: QueueMode;
  /** Packets read per batch (at most the ring size). */
  batchSize: number;
  /** RX ring (worker produces). */
  rx: SlotRingDescriptor;
  /** TX ring (worker consumes). */
  tx: SlotRingDescriptor;
  /** This queue's control block. */
  control: SharedArrayBuffer;
  /** The device's doorbell (rung when a sleeping consumer must wake). */
  doorbell: SharedArrayBuffer;
  /** The set's stats table. */
  stats: SharedArrayBuffer;
  /** Every device of the set, by index. */
  peers: PeerDevice[];
  /** The in-worker handler, or null. */
  handler: HandlerSpec | null;
  /** What a throwing handler means. */
  handlerErrors: HandlerErrorPolicy;
  /** CPUs to pin the worker to, or null. */
  affinity: number[] | null;
  /** How to read the fd: io_uring batches, read(2) per packet, or io_uring when it can be set up. */
  reads: ReadsOption;
}

/**
 * `workerData` of a queue worker thread: its first job, and whether it goes back
 * to a `QueueWorkerPool` when the job is over instead of exiting.
 */
export interface QueueThreadData {
  /** The first job. */
  job: QueueWorkerData;
  /** Wait for the next job (JobMessage) when this one is over; exit on QuitMessage. */
  pooled: boolean;
  /** Pooled threads: one Int32 word, shared by all of them, held while a thread switches V8's --expose-gc flag (queue-worker.ts). */
  gcFlagLock: SharedArrayBuffer | null;
}

/** Main → idle pooled worker: run this job next (same fields as a first job's workerData). */
export interface JobMessage {
  type: 'job';
  /** The job. */
  job: QueueWorkerData;
}

/** Main → idle pooled worker: exit. */
export interface QuitMessage {
  type: 'quit';
}

/** A serialisable error. */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: string | undefined;
}

/** Worker → main: the loop is about to start. */
export interface ReadyMessage {
  type: 'ready';
  /** Kernel thread id of the worker. */
  tid: number;
  /** CPUs the worker is pinned to (null: not pinned). */
  affinity: number[] | null;
  /** The read path the worker runs. */
  reads: ReadPath;
}

/** Worker → main: the handler threw (rate-limited: `suppressed` later throws folded in). */
export interface HandlerErrorMessage {
  type: 'handler-error';
  /** The error. */
  error: ErrorInfo;
  /** Packets in the batch that threw. */
  packets: number;
  /** Further throws since the previous report that were not reported one by one. */
  suppressed: number;
}

/** Worker → main: the queue failed (also recorded in the RX ring's state). */
export interface FailedMessage {
  type: 'failed';
  /** RingFailure value. */
  failure: number;
  /** errno, or 0. */
  errno: number;
  /** What happened. */
  message: string;
}

/**
 * Main → worker, posted right before a QueueOp.REDIRECT request and taken by the
 * worker with `receiveMessageOnPort()` when it serves that request (it never
 * returns to its event loop, so it cannot listen for messages).
 */
export interface RedirectMessage {
  type: 'redirect';
  /** The device that receives what the worker would pass to the main thread. */
  target: PeerDevice;
}

/**
 * Worker → main, pooled workers only: the job is over (its loop was left, its
 * rings and io_uring closed) and the thread now waits for the next one.
 */
export interface ReleasedMessage {
  type: 'released';
}

/** Any message a queue worker posts. */
export type WorkerMessage = ReadyMessage | HandlerErrorMessage | FailedMessage | ReleasedMessage;

/** Serialises an unknown thrown value. */
export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) {
    return { name: e.name, message: e.message, stack: e.stack, code: (e as { code?: string }).code };
  }
  return { name: 'Error', message: String(e) };
}
