/**
 * Entry module of a queue worker thread: one per (device, queue), started by the
 * queue set with `new Worker(new URL('./queue-worker.js', import.meta.url))`.
 *
 * Why a plain `worker_threads` Worker and not a piscina task: piscina runs short
 * CPU-bound tasks on a shared pool and can only abort a task between tasks; a
 * queue worker is the opposite, a thread that owns one fd for its whole life and
 * spends its idle time blocked in poll(2). A task parked in a system call cannot
 * be aborted by piscina (nor by worker.terminate(): a blocked syscall never
 * returns to JavaScript; DESIGN.md). So each queue gets a dedicated thread that
 * waits in `poll([fd, eventfd])`, and is stopped by a flag plus a write to its
 * eventfd, which wakes it within about a millisecond.
 *
 * With a `QueueWorkerPool` (worker-pool.ts) the thread outlives its first queue:
 * when the loop is left it posts 'released' and waits in its event loop for the
 * next job, so a process that opens and closes queue sets reuses threads (and
 * their isolate, koffi instance and malloc arena) instead of making new ones.
 */
import { once } from 'node:events';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData, receiveMessageOnPort } from 'node:worker_threads';
import { sys } from '@tunpipe/core';
import { forgetRecentViews } from '@tunpipe/offload';
import { QueueLoop } from './queue-loop.js';
import { RingFailure } from './slot-ring.js';
import { pinCurrentThread, currentThreadCpus } from './cpu-affinity.js';
import type { HandlerContext, HandlerModule, PacketHandler } from './handler-api.js';
import type { JobMessage, QueueThreadData, QueueWorkerData, QuitMessage, WorkerMessage } from './worker-protocol.js';

const thread = workerData as QueueThreadData;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
/** The CPUs the thread started with: a pooled thread pinned by one job is unpinned for a job without affinity. */
const startCpus = currentThreadCpus();
let pinned = false;

/** Pins (or unpins) the thread for `data`; returns the CPUs it is pinned to, or null. */
function applyAffinity(data: QueueWorkerData): number[] | null {
  if (data.affinity !== null && data.affinity.length > 0) {
    const err = pinCurrentThread(data.affinity);
    if (err !== 0) throw new Error(`sched_setaffinity(${data.affinity.join(',')}) failed with errno ${err}`);
    pinned = true;
    return currentThreadCpus();
  }
  if (pinned && startCpus.length > 0) {
    const err = pinCurrentThread(startCpus);
    if (err !== 0) throw new Error(`sched_setaffinity(${startCpus.join(',')}) failed with errno ${err}`);
    pinned = false;
  }
  return null;
}

/**
 * The job's handler: the module is imported once per thread (a pooled thread
 * keeps it, like any ES module), `init()` runs once per job.
 */
async function loadHandler(data: QueueWorkerData): Promise<PacketHandler | null> {
  if (data.handler === null) return null;
  const mod = (await import(data.handler.url)) as HandlerModule;
  let handler = mod.handle ?? (typeof mod.default === 'function' ? mod.default : null);
  if (typeof mod.init === 'function') {
    const context: HandlerContext = {
      device: data.device,
      queue: data.queue,
      queues: data.queues,
      devices: data.peers.length,
      mode: data.mode,
      vnetHdr: data.peers[data.device]!.vnetHdr,
      data: data.handler.data,
    };
    const returned = mod.init(context);
    if (typeof returned === 'function') handler = returned;
  }
  if (typeof handler !== 'function') {
    throw new Error(`handler module ${data.handler.url} exports no handle() function (named or default)`);
  }
  return handler;
}

/** Runs one job to its end; resolves the RingFailure it ended with. */
async function runJob(data: QueueWorkerData): Promise<number> {
  const affinity = applyAffinity(data);
  const handler = await loadHandler(data);
  // Requests that carry data (QueueOp.REDIRECT) post it first; the loop takes it synchronously.
  const receive = (): unknown => receiveMessageOnPort(port)?.message;
  const loop = new QueueLoop(data, handler, post, receive);
  post({ type: 'ready', tid: sys.gettid(), affinity, reads: loop.readPath });
  return loop.run();
}

/**
 * Waits, idle in the event loop, for the pool's next message: the next job, or
 * null to exit. Anything else (a redirect's data the last job never took) is
 * dropped.
 */
async function nextJob(): Promise<QueueWorkerData | null> {
  for (;;) {
    const [m] = (await once(port, 'message')) as [JobMessage | QuitMessage | { type: string }];
    if (m.type === 'job') return (m as JobMessage).job;
    if (m.type === 'quit') return null;
  }
}

/**
 * A full collection of this thread's heap, for pooled threads between jobs: the
 * finished job's objects (ring views, the loop) are garbage that still holds the
 * closed set's SharedArrayBuffers, and a thread that allocates nothing per packet
 * may not run a major collection for a long time, so the rings' memory would stay
 * allocated while the thread idles. (offload's view cache holds the last two
 * buffers it saw: `forgetRecentViews` lets go of them first.) The gc function is
 * taken with --expose-gc switched on just for that one new context, then off
 * again; V8's flags are process-wide, so pooled threads starting together take
 * turns (`gcFlagLock`, a word shared by every thread the pools start).
 */
function collector(lock: Int32Array): () => void {
  while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) Atomics.wait(lock, 0, 1, 50);
  try {
    v8.setFlagsFromString('--expose-gc');
    try {
      return vm.runInNewContext('gc') as () => void;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  } finally {
    Atomics.store(lock, 0, 0);
    Atomics.notify(lock, 0, 1);
  }
}

const collect = thread.gcFlagLock === null ? null : collector(new Int32Array(thread.gcFlagLock));
let job: QueueWorkerData | null = thread.job;
// workerData stays reachable for the thread's life: it must not keep the first job's rings.
(thread as { job: QueueWorkerData | null }).job = null;
while (job !== null) {
  const failure = await runJob(job);
  // A loop that crashed may have left the thread in any state: the thread ends with it.
  if (!thread.pooled || collect === null || failure === RingFailure.WORKER) break;
  job = null;
  forgetRecentViews();
  // A job that came as a message ran inside the port's message dispatch, whose
  // handle scope holds that message (and the rings in it): collect on a fresh turn.
  await new Promise<void>((resolve) => setImmediate(resolve));
  collect();
  post({ type: 'released' });
  job = await nextJob();
}
port.close();
