/**
 * Web byte streams over Node streams: a `net.Socket` (TCP, Unix), a child process's
 * stdio, a file stream.
 *
 * Node 20's own adapters are not used for duplexes: `Duplex.toWeb(socket)` closes
 * its readable only when the WHOLE socket closes, so with half-close (the peer's
 * FIN while we still write) the readable never ends (measured on Node 20.20). Here
 * each direction is its own adapter:
 *
 * - readable: paused-mode reads; `pull()` resumes the Node stream, a full queue
 *   (64 KiB) pauses it; 'end' closes; 'error', or 'close' before 'end', errors;
 *   `cancel()` destroys the Node stream.
 * - writable: `write()` resolves at once while the Node stream accepts more and
 *   waits for 'drain' when it does not; `close()` ends the Node stream and waits
 *   for 'finish'; `abort()` destroys it.
 *
 * A duplex is switched to `allowHalfOpen`: otherwise a socket ends its writing side
 * as soon as the peer's FIN arrives, cutting off answers still in flight.
 */
import { Duplex, type Readable, type Writable } from 'node:stream';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode, fromNodeError } from './error-codes.js';

/** A readable and a writable side, as `pipeThrough` and tcpip.js-style stacks expect. */
export interface StreamPair<R, W = R> {
  /** What comes in. */
  readonly readable: ReadableStream<R>;
  /** What goes out. */
  readonly writable: WritableStream<W>;
}

/** Two Node streams used as one channel: e.g. a child's `{ readable: child.stdout, writable: child.stdin }`. */
export interface NodeStreamPair {
  /** Incoming bytes. */
  readonly readable: Readable;
  /** Outgoing bytes. */
  readonly writable: Writable;
}

/** Bytes a byte-stream adapter queues before it pauses the Node stream. */
const READ_HIGH_WATER_MARK = 64 * 1024;

/** Web byte streams over a Node duplex (a socket) or over a pair of Node streams (child stdio). */
export function nodeByteStreams(stream: Duplex | NodeStreamPair): StreamPair<Uint8Array> {
  if (stream instanceof Duplex) {
    stream.allowHalfOpen = true;
    return { readable: nodeReadableToWeb(stream), writable: nodeWritableToWeb(stream) };
  }
  return { readable: nodeReadableToWeb(stream.readable), writable: nodeWritableToWeb(stream.writable) };
}

/** A ReadableStream of the bytes a Node readable produces (backpressure through pause/resume). */
export function nodeReadableToWeb(source: Readable): ReadableStream<Uint8Array> {
  let detach = (): void => undefined;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (source.readableEnded) {
          controller.close();
          return;
        }
        const onData = (chunk: Buffer | string): void => {
          controller.enqueue(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
          if ((controller.desiredSize ?? 0) <= 0) source.pause();
        };
        const onEnd = (): void => {
          detach();
          controller.close();
        };
        const onError = (err: Error): void => {
          detach();
          controller.error(fromNodeError(StreamErrorCode.BYTE_STREAM, 'reading failed', err));
        };
        const onClose = (): void => {
          detach();
          controller.error(new TunError(StreamErrorCode.PREMATURE_CLOSE, 'the Node stream closed before its end'));
        };
        detach = () => {
          source.off('data', onData);
          source.off('end', onEnd);
          source.off('error', onError);
          source.off('close', onClose);
        };
        source.pause();
        source.on('data', onData);
        source.on('end', onEnd);
        source.on('error', onError);
        source.on('close', onClose);
      },
      pull() {
        source.resume();
      },
      cancel() {
        detach();
        source.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: READ_HIGH_WATER_MARK }),
  );
}

/** A WritableStream onto a Node writable (waits for 'drain' when the Node stream is full). */
export function nodeWritableToWeb(sink: Writable): WritableStream<Uint8Array> {
  let failure: TunError | undefined;
  const wrap = (err: Error): TunError => fromNodeError(StreamErrorCode.BYTE_STREAM, 'writing failed', err);
  return new WritableStream<Uint8Array>({
    start(controller) {
      sink.on('error', (err: Error) => {
        failure ??= wrap(err);
        controller.error(failure);
      });
    },
    write(chunk) {
      if (failure !== undefined) throw failure;
      if (sink.write(chunk)) return undefined;
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error): void => {
          sink.off('drain', onDrain);
          sink.off('close', onClose);
          sink.off('error', done);
          if (err === undefined) resolve();
          else reject(err instanceof TunError ? err : wrap(err));
        };
        const onDrain = (): void => done();
        const onClose = (): void => done(failure ?? new TunError(StreamErrorCode.PREMATURE_CLOSE, 'the Node stream closed while writing'));
        sink.on('drain', onDrain);
        sink.on('close', onClose);
        sink.on('error', done);
      });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        sink.end((err?: Error | null) => (err ? reject(failure ?? wrap(err)) : resolve()));
      });
    },
    abort(reason) {
      sink.destroy(reason instanceof Error ? reason : undefined);
    },
  });
}
