/**
 * `pipeline(source, ...stages, sink, options?)`: web streams composed end to end.
 *
 * ```ts
 * await pipeline(tun.readable, pcapTap(writer), piscinaPacketStage(url), other.writable, { signal });
 * ```
 *
 * Every hop is a `pipeThrough`/`pipeTo`, so backpressure runs from the sink back to
 * the source: a slow sink stops the stages, which stop reading the source. The
 * returned promise settles when the sink has closed (everything written), or
 * rejects with the first error of any part; the other parts are cancelled or
 * aborted with that error. An abort of `signal` cancels the source, aborts every
 * stage and the sink, and rejects at once with TunError ERR_TUN_ABORTED (`cause`
 * is the signal's reason); a part busy at that moment (a sink in the middle of a
 * write) is aborted as soon as it returns.
 *
 * `source` may also be any (async) iterable, e.g. an async generator.
 */
import type { ReadableWritablePair } from 'node:stream/web';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode, abortedError } from './error-codes.js';

/** Options of `pipeline()`. */
export interface PipelineOptions {
  /** Aborts the whole pipeline. */
  signal?: AbortSignal;
}

/** What a pipeline starts from: a ReadableStream or any (async) iterable. */
export type PipelineSource<T> = ReadableStream<T> | AsyncIterable<T> | Iterable<T>;

/** A middle stage: a TransformStream or any `{ readable, writable }` pair. */
export type PipelineStage<I, O> = ReadableWritablePair<O, I>;

/** Pipes `source` into `sink`. */
export function pipeline<A>(source: PipelineSource<A>, sink: WritableStream<A>, options?: PipelineOptions): Promise<void>;
/** Pipes `source` through one stage into `sink`. */
export function pipeline<A, B>(
  source: PipelineSource<A>,
  s1: PipelineStage<A, B>,
  sink: WritableStream<B>,
  options?: PipelineOptions,
): Promise<void>;
/** Pipes `source` through two stages into `sink`. */
export function pipeline<A, B, C>(
  source: PipelineSource<A>,
  s1: PipelineStage<A, B>,
  s2: PipelineStage<B, C>,
  sink: WritableStream<C>,
  options?: PipelineOptions,
): Promise<void>;
/** Pipes `source` through three stages into `sink`. */
export function pipeline<A, B, C, D>(
  source: PipelineSource<A>,
  s1: PipelineStage<A, B>,
  s2: PipelineStage<B, C>,
  s3: PipelineStage<C, D>,
  sink: WritableStream<D>,
  options?: PipelineOptions,
): Promise<void>;
/** Pipes `source` through four stages into `sink`. */
export function pipeline<A, B, C, D, E>(
  source: PipelineSource<A>,
  s1: PipelineStage<A, B>,
  s2: PipelineStage<B, C>,
  s3: PipelineStage<C, D>,
  s4: PipelineStage<D, E>,
  sink: WritableStream<E>,
  options?: PipelineOptions,
): Promise<void>;
/** Pipes `source` through any number of stages into the sink (untyped between stages). */
export function pipeline(
  source: PipelineSource<unknown>,
  ...rest: Array<PipelineStage<unknown, unknown> | WritableStream<unknown> | PipelineOptions | undefined>
): Promise<void>;
export async function pipeline(
  source: PipelineSource<unknown>,
  ...rest: Array<PipelineStage<unknown, unknown> | WritableStream<unknown> | PipelineOptions | undefined>
): Promise<void> {
  const last = rest[rest.length - 1];
  const options: PipelineOptions = last === undefined || !isStreamLike(last) ? (rest.pop() as PipelineOptions | undefined) ?? {} : {};
  const sink = rest.pop();
  if (!(sink instanceof WritableStream)) {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, 'pipeline: the last stream must be a WritableStream');
  }
  const signal = options.signal;
  let readable = toReadable(source);
  for (const stage of rest as Array<PipelineStage<unknown, unknown>>) {
    if (signal !== undefined && isSignalAware(stage)) stage.attachSignal(signal);
    // No signal on the inner pipes: the last pipe's abort cancels its source, and
    // that cancel travels back stage by stage to the source. (With the signal on
    // every pipe, Node 20.20 never cancels the source: the first pipe's abort waits
    // on a write that its own abort of the next stage keeps blocked.)
    readable = readable.pipeThrough(stage);
  }
  if (signal === undefined) return readable.pipeTo(sink);
  const done = readable.pipeTo(sink, { signal });
  if (signal.aborted) {
    done.catch(() => undefined);
    throw abortedError(signal);
  }
  // Settle at the abort itself: pipeTo waits for writes already in progress, and a
  // sink that never finishes one would hold the pipeline forever.
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    done.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted && err === signal.reason ? abortedError(signal) : err);
      },
    );
  });
}

/**
 * A stage that holds resources (threads, timers) and wants to hear about an abort
 * directly: a pipe reaches a stage only after the write in progress returns, which
 * a stuck sink may delay forever. `pipeline()` calls `attachSignal(signal)` first.
 */
export interface SignalAwareStage {
  /** Called by `pipeline()` with its signal before piping. */
  attachSignal(signal: AbortSignal): void;
}

function isSignalAware(x: object): x is SignalAwareStage {
  return typeof (x as Partial<SignalAwareStage>).attachSignal === 'function';
}

function isStreamLike(x: unknown): boolean {
  return x instanceof WritableStream || (typeof x === 'object' && x !== null && 'readable' in x && 'writable' in x);
}

function toReadable<T>(source: PipelineSource<T>): ReadableStream<T> {
  if (source instanceof ReadableStream) return source;
  return ReadableStream.from(source as AsyncIterable<T>) as ReadableStream<T>;
}
