/**
 * `piscinaStage()`: a TransformStream whose transform runs in a piscina worker pool,
 * for CPU-heavy per-packet or per-batch work (encryption, compression), with
 *
 * - order preserved: results leave in the order the inputs came, however long
 *   each task took (a window of in-flight tasks, emptied from its head);
 * - bounded work: at most `concurrency + maxQueue` tasks in flight; when the window
 *   is full the stage stops accepting input, so backpressure reaches the source;
 * - results leave as soon as they are in order (not at the next input);
 * - a prompt end: an abort (the `signal` option, an aborted pipe, a cancelled
 *   readable) aborts the tasks in flight, which terminates their workers, and the
 *   pool is destroyed; it is destroyed as well when the input ends or a task fails.
 *
 * ```
 *  input ──► [ t5 t4 t3 t2 t1 ] in flight (≤ concurrency + maxQueue) ──► in order ──► output
 *                         ▲ head: emitted once settled, then t2 ...
 * ```
 *
 * Values cross to the workers by structured clone. Packets from a device are views
 * into shared ring memory, which a clone would share rather than copy: use
 * `piscinaPacketStage()` for packets, which sends private copies.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Transformer } from 'node:stream/web';
import type { TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode, abortedError } from './error-codes.js';

/** Options of `piscinaStage()`. */
export interface PiscinaStageOptions<I> {
  /** Worker threads. Default: `os.availableParallelism()`. */
  concurrency?: number;
  /** Tasks submitted beyond those running. Default: `concurrency`. In flight at most: concurrency + maxQueue. */
  maxQueue?: number;
  /** The worker module's exported function to call (piscina `name`). Default: its default export. */
  name?: string;
  /** Objects to transfer (not copy) with each input, e.g. `(x) => [x.buffer]`. */
  transfer?: (input: I) => readonly TransferListItem[] | undefined;
  /** Passed to every worker as `workerData` (keys, tables, a SharedArrayBuffer...). */
  workerData?: unknown;
  /** Aborts the stage: tasks in flight are aborted, the pool destroyed, the stream errored with ERR_TUN_ABORTED. */
  signal?: AbortSignal;
}

/** Counters of a piscina stage. */
export interface PiscinaStageStats {
  /** Tasks handed to the pool. */
  submitted: number;
  /** Results emitted. */
  completed: number;
  /** Tasks submitted and not yet emitted. */
  inFlight: number;
  /** The most tasks ever in flight at once (never above concurrency + maxQueue). */
  maxInFlight: number;
}

/** How a stage turns inputs into tasks and results into outputs (identity for plain stages). */
export interface TaskCodec<I, O> {
  /** The task to send for `input`, what to transfer with it, and what to remember for its result. */
  toTask(input: I): { task: unknown; transferList?: readonly TransferListItem[] | undefined; context?: unknown };
  /** The output for a task's result (`context` as toTask returned it); `undefined` emits nothing. */
  fromResult(result: unknown, context: unknown): O | undefined;
}

type RunOptions = NonNullable<Parameters<Piscina['run']>[1]>;

interface Slot {
  context: unknown;
  settled: boolean;
  value: unknown;
  error: unknown;
  /** Resolves (never rejects) once the task settled and the window was pumped. */
  done: Promise<void>;
}

/** A TransformStream backed by a piscina pool; order-preserving and bounded. */
export class PiscinaStage<I, O> extends TransformStream<I, O> implements AsyncDisposable {
  /** The pool (for inspection; the stage owns and destroys it). */
  readonly pool: Piscina;
  readonly #window: TaskWindow<I, O>;

  /** See `piscinaStage()`. `codec` adapts inputs and results (identity when omitted). */
  constructor(workerFile: string | URL, options: PiscinaStageOptions<I> = {}, codec?: TaskCodec<I, O>) {
    const concurrency = countOption('concurrency', options.concurrency ?? availableParallelism(), 1);
    const maxQueue = countOption('maxQueue', options.maxQueue ?? concurrency, 0);
    const filename = workerFile instanceof URL ? fileURLToPath(workerFile) : workerFile;
    const pool = new Piscina({
      filename,
      minThreads: concurrency,
      maxThreads: concurrency,
      maxQueue: Math.max(maxQueue, 1),
      workerData: options.workerData,
    });
    const window = new TaskWindow<I, O>(pool, concurrency + maxQueue, options, codec);
    // `cancel` (readable cancelled or writable aborted) is in the Streams spec and
    // Node 20.20, but not yet in the TypeScript lib's Transformer type.
    const transformer: Transformer<I, O> & { cancel(reason: unknown): Promise<void> } = {
      start: (controller) => window.start(controller),
      transform: (input) => window.submit(input),
      flush: () => window.finish(),
      cancel: () => window.stop(),
    };
    super(transformer);
    this.pool = pool;
    this.#window = window;
  }

  /** Counters (a snapshot). */
  stats(): PiscinaStageStats {
    return this.#window.stats();
  }

  /** Aborts the stage when `signal` aborts (`pipeline()` attaches its own signal this way). */
  attachSignal(signal: AbortSignal): void {
    this.#window.attachSignal(signal);
  }

  /** Destroys the pool now (tasks in flight are aborted). Resolves once its threads are gone. Idempotent. */
  close(): Promise<void> {
    return this.#window.stop();
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A TransformStream running each input through `workerFile`'s function in a piscina pool, in order, bounded. */
export function piscinaStage<I, O>(workerFile: string | URL, options: PiscinaStageOptions<I> = {}): PiscinaStage<I, O> {
  return new PiscinaStage<I, O>(workerFile, options);
}

/** The ordered window of in-flight tasks behind a PiscinaStage. */
class TaskWindow<I, O> {
  private readonly slots: Slot[] = [];
  private readonly abort = new AbortController();
  private controller: TransformStreamDefaultController<O> | undefined;
  private failure: unknown = undefined;
  private destroyed: Promise<void> | undefined;
  private readonly counters = { submitted: 0, completed: 0, maxInFlight: 0 };
  private readonly name: string | undefined;
  private readonly transfer: PiscinaStageOptions<I>['transfer'];
  private readonly signals: AbortSignal[] = [];

  constructor(
    private readonly pool: Piscina,
    private readonly limit: number,
    options: PiscinaStageOptions<I>,
    private readonly codec: TaskCodec<I, O> | undefined,
  ) {
    this.name = options.name;
    this.transfer = options.transfer;
    if (options.signal !== undefined) this.attachSignal(options.signal);
  }

  start(controller: TransformStreamDefaultController<O>): void {
    this.controller = controller;
    const aborted = this.signals.find((s) => s.aborted);
    if (aborted !== undefined) this.fail(abortedError(aborted));
  }

  attachSignal(signal: AbortSignal): void {
    if (this.destroyed !== undefined) return;
    this.signals.push(signal);
    if (signal.aborted) {
      if (this.controller !== undefined) this.fail(abortedError(signal));
    } else {
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  private readonly onAbort = (event: Event): void => this.fail(abortedError(event.target as AbortSignal));

  async submit(input: I): Promise<void> {
    this.throwIfFailed();
    let task: unknown = input;
    let transferList = this.transfer?.(input);
    let context: unknown;
    if (this.codec !== undefined) ({ task, transferList, context } = this.codec.toTask(input));
    const run = this.pool.run(task, {
      signal: this.abort.signal,
      name: this.name ?? null,
      transferList: transferList as RunOptions['transferList'],
    });
    const slot: Slot = { context, settled: false, value: undefined, error: undefined, done: Promise.resolve() };
    slot.done = run.then(
      (value) => this.settle(slot, value, undefined),
      (error: unknown) => this.settle(slot, undefined, error ?? new Error('task failed')),
    );
    this.slots.push(slot);
    this.counters.submitted++;
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.slots.length);
    // Window full: hold the input side until the head has left.
    while (this.slots.length >= this.limit && this.failure === undefined) await this.slots[0]!.done;
    this.throwIfFailed();
  }

  async finish(): Promise<void> {
    while (this.slots.length > 0 && this.failure === undefined) await this.slots[0]!.done;
    this.throwIfFailed();
    await this.stop();
  }

  /** Aborts what is in flight and destroys the pool (idempotent). */
  stop(): Promise<void> {
    if (this.destroyed === undefined) {
      for (const s of this.signals) s.removeEventListener('abort', this.onAbort);
      this.slots.length = 0;
      // Destroy first, then abort: aborting tasks of workers that are still
      // starting makes piscina replace those workers, and replacements created
      // before destroy() outlive it (measured with piscina 5.3: two threads leak).
      this.destroyed = this.pool.destroy();
      this.abort.abort();
    }
    return this.destroyed!;
  }

  stats(): PiscinaStageStats {
    return { ...this.counters, inFlight: this.slots.length };
  }

  private settle(slot: Slot, value: unknown, error: unknown): void {
    slot.settled = true;
    slot.value = value;
    slot.error = error;
    this.pump();
  }

  /** Emits every settled result at the head of the window, in order. */
  private pump(): void {
    while (this.failure === undefined && this.slots.length > 0 && this.slots[0]!.settled) {
      const slot = this.slots.shift()!;
      if (slot.error !== undefined) {
        this.fail(new TunError(StreamErrorCode.WORKER_TASK, `a worker task failed: ${describe(slot.error)}`, { cause: slot.error }));
        return;
      }
      this.counters.completed++;
      const out = this.codec === undefined ? (slot.value as O) : this.codec.fromResult(slot.value, slot.context);
      if (out !== undefined) this.controller!.enqueue(out);
    }
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined || this.destroyed !== undefined) return;
    this.failure = err;
    try {
      this.controller?.error(err);
    } catch {
      // the stream already ended
    }
    this.stop().catch(() => undefined);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

function countOption(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
