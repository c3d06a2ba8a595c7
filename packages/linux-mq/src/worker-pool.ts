/**
 * `QueueWorkerPool`: queue worker threads kept after their queue set closed, for
 * the next set to use (`openQueues({ workerPool })`).
 *
 * Every queue worker is a thread with its own V8 isolate. Starting one takes tens
 * of milliseconds, and not all of what it allocated comes back when it exits:
 * - koffi 3.3.4 never frees an isolate's instance data (its `InstanceData` is
 *   made in the module's init and only released by its destructor, which nothing
 *   calls): each thread that loads it leaves about 50 KiB of malloc'd memory and a
 *   2 MiB stack mapping behind;
 * - glibc keeps what the thread freed in its arena (core's malloc-thresholds.ts).
 * A process that opens and closes queue sets all day (a VPN reconfiguring, a test
 * rig) grows by that much per thread. A pool keeps the threads instead:
 *
 *     set A opens    pool empty: new threads T1, T2 (koffi loaded once each)
 *     set A closes   loops left, fds closed; T1, T2 post 'released' and wait,
 *                    idle in their event loop, holding no fd and no ring
 *     set B opens    T1, T2 get B's queues as a job message
 *     idle timeout,  idle threads exit
 *     or close()
 *
 * A handler module is imported once per thread, so its top-level state lives on
 * from one set to the next; `init()` runs once per queue and set. Threads started
 * with other `execArgv` are not mixed. A thread whose loop crashed is not reused.
 */
import { Worker } from 'node:worker_threads';
import { TunError } from '@tunpipe/offload';
import type { JobMessage, QueueThreadData, QueueWorkerData, QuitMessage, WorkerMessage } from './worker-protocol.js';

/** Options of `QueueWorkerPool`. */
export interface QueueWorkerPoolOptions {
  /** How long an idle thread waits for a set before it exits (ms). Default 30 000; `Infinity` keeps it until `close()`. */
  idleTimeout?: number;
  /** Most idle threads kept; a thread released beyond that exits. Default 64. */
  maxIdle?: number;
}

/** A thread waiting for its next job. */
interface IdleThread {
  worker: Worker;
  key: string;
  timer: NodeJS.Timeout | undefined;
}

const QUIT: QuitMessage = { type: 'quit' };

/** Held by a pooled thread while it switches V8's process-wide --expose-gc flag (queue-worker.ts); one for every pool. */
const GC_FLAG_LOCK = new SharedArrayBuffer(4);

/** Keeps queue worker threads for later queue sets; see the file comment. */
export class QueueWorkerPool {
  /** How long an idle thread waits for a set before it exits (ms). */
  readonly idleTimeout: number;
  /** Most idle threads kept. */
  readonly maxIdle: number;
  private readonly idle: IdleThread[] = [];
  /** Every live thread, with its execArgv key and its exit. */
  private readonly live = new Map<Worker, { key: string; exited: Promise<void> }>();
  private closing: Promise<void> | undefined;
  private reusedCount = 0;
  private startedCount = 0;

  constructor(options: QueueWorkerPoolOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalid('QueueWorkerPool options must be an object');
    const idleTimeout = options.idleTimeout ?? 30_000;
    if (typeof idleTimeout !== 'number' || !(idleTimeout >= 0)) {
      throw invalid(`idleTimeout must be a number of milliseconds >= 0 (or Infinity), got ${String(idleTimeout)}`);
    }
    const maxIdle = options.maxIdle ?? 64;
    if (typeof maxIdle !== 'number' || !Number.isInteger(maxIdle) || maxIdle < 0 || maxIdle > 4096) {
      throw invalid(`maxIdle must be an integer 0..4096, got ${String(maxIdle)}`);
    }
    this.idleTimeout = idleTimeout;
    this.maxIdle = maxIdle;
  }

  /** Live threads: serving a queue, or idle. */
  get threads(): number {
    return this.live.size;
  }

  /** Threads waiting for a set. */
  get idleThreads(): number {
    return this.idle.length;
  }

  /** Threads started so far, and jobs given to a thread that had served another queue before. */
  get counts(): { started: number; reused: number } {
    return { started: this.startedCount, reused: this.reusedCount };
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * @internal A thread for `job`: an idle one started with the same `execArgv`
   * (sent the job), else a new one. Throws ERR_TUN_CLOSED after `close()`.
   */
  take(job: QueueWorkerData, url: URL, execArgv: string[] | undefined): Worker {
    if (this.closing !== undefined) throw new TunError('ERR_TUN_CLOSED', 'the worker pool is closed');
    const key = JSON.stringify(execArgv ?? null);
    const i = this.idle.findIndex((t) => t.key === key);
    if (i >= 0) {
      const [t] = this.idle.splice(i, 1);
      clearTimeout(t!.timer);
      t!.worker.ref();
      const m: JobMessage = { type: 'job', job };
      t!.worker.postMessage(m);
      this.reusedCount++;
      return t!.worker;
    }
    const workerData: QueueThreadData = { job, pooled: true, gcFlagLock: GC_FLAG_LOCK };
    const worker = new Worker(url, { workerData, ...(execArgv === undefined ? {} : { execArgv }) });
    this.startedCount++;
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        this.live.delete(worker);
        const j = this.idle.findIndex((t) => t.worker === worker);
        if (j >= 0) clearTimeout(this.idle.splice(j, 1)[0]!.timer);
        resolve();
      });
    });
    this.live.set(worker, { key, exited });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'released') this.released(worker);
    });
    // Errors of a thread serving a set are the set's; an idle thread has nothing to report.
    worker.on('error', () => undefined);
    return worker;
  }

  /** A thread finished its job: keep it idle, or let it go. */
  private released(worker: Worker): void {
    const entry = this.live.get(worker);
    if (entry === undefined) return;
    if (this.closing !== undefined || this.idle.length >= this.maxIdle || this.idleTimeout === 0) {
      worker.postMessage(QUIT);
      return;
    }
    const t: IdleThread = { worker, key: entry.key, timer: undefined };
    if (Number.isFinite(this.idleTimeout)) {
      t.timer = setTimeout(() => {
        const j = this.idle.indexOf(t);
        if (j < 0) return;
        this.idle.splice(j, 1);
        worker.postMessage(QUIT);
      }, this.idleTimeout);
      t.timer.unref();
    }
    // An idle thread does not keep the process alive.
    worker.unref();
    this.idle.push(t);
  }

  /**
   * Lets every thread go: idle ones exit now, busy ones when their queue set
   * closes. Resolves when all have exited. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const t of this.idle.splice(0)) {
        clearTimeout(t.timer);
        // Referenced again, so the process waits for the exit it is waiting on.
        t.worker.ref();
        t.worker.postMessage(QUIT);
      }
      await Promise.all([...this.live.values()].map((e) => e.exited));
    })();
    return this.closing;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function invalid(message: string): TunError {
  return new TunError('ERR_TUN_INVALID_ARGUMENT', message);
}
