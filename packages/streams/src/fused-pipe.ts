/**
 * Pipe fusion, the streams counterpart of splice(2): `a.readable.pipeTo(b.writable)`
 * between two tunpipe devices of this process is carried out by A's queue
 * workers, which write A's packets straight to B's queue fds (linux-mq's RX
 * redirect, `QueueSet.redirectTo`): no hop through the main thread, no copy.
 * Superpackets go whole to an offload device and are split for a plain one;
 * runs of segments are GRO-coalesced, exactly as FORWARD verdicts are.
 *
 * ```
 *  standard: A workers ─► RX ring ─► main: read ─► write ─► B's TX ring ─► B workers ─► B fd
 *  fused:    A workers ─────────────────────────────────────────────────────────────► B fd
 * ```
 *
 * `tun.readable` is a `TunReadableStream`; its `pipeTo(dest, options)` fuses when
 * `dest` is the `writable` of a device opened by `openTun()` in this process and
 * both devices were opened with `fusePipes: true` (the default). Anything else
 * (another WritableStream, `pipeThrough` a TransformStream, `fusePipes: false`
 * on either end, a locked stream, an invalid or already aborted signal, a
 * closed device) is the standard Web Streams `pipeTo`, untouched.
 *
 * What the caller observes is the standard pipe:
 *
 * - both streams are locked (a reader and a writer are taken) while it runs;
 * - order: the packets A had already received are written through B's writable
 *   first (A's workers hold their reads meanwhile), and B's workers have written
 *   them before A's workers switch over;
 * - it ends the way the standard pipe would, because at its end the pipe is
 *   un-fused (A's workers go back to the RX ring, and acknowledge it) and the
 *   standard `pipeTo` takes over with the same options and settles it:
 *   the signal aborts it (dest aborted unless preventAbort, source cancelled
 *   unless preventCancel, rejected with the signal's reason); A closed: dest
 *   closed unless preventClose, resolved; A's device gone: dest aborted unless
 *   preventAbort, rejected with A's coded error; B closed or its device gone:
 *   B's writable errors with what its next write would have thrown
 *   (ERR_TUN_CLOSED, ERR_TUN_DEVICE_GONE), then source cancelled unless
 *   preventCancel, rejected with that error.
 *
 * An in-worker handler on A still runs: PASS verdicts are what the fused pipe
 * forwards; TX, FORWARD and DROP verdicts do what they always do. A's `stats()`
 * counts fused packets as `piped` (not `passed`, `delivered`) and their writes in
 * A's txPackets/txBytes/groMerged/gsoSplit/txErrors; B's `sent` and TX ring
 * counters never see them. `tunpipe:queue:lifecycle` publishes 'held',
 * 'redirected' and 'unredirected' per queue of A.
 *
 * Safety: A's workers hold B's fd numbers; B's `close()` revokes every redirect
 * into it and waits for A's workers to acknowledge before closing any fd
 * (linux-mq rx-redirect.ts).
 */
import type { StreamPipeOptions, UnderlyingSource, QueuingStrategy } from 'node:stream/web';
import type { QueueSet, RxRedirect, RedirectEnd } from '@tunpipe/linux-mq';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';
import type { Packet } from './packet.js';
import type { WritablePacket } from './packet-sink.js';

/** A device as one end of a fused pipe (TunStreams provides it). */
export interface PipeEnd {
  /** The device's queue set (device 0). */
  readonly queueSet: QueueSet;
  /** `openTun`'s `fusePipes`: false keeps every pipe from or to this device on the main thread. */
  readonly fusePipes: boolean;
  /** Publishes what the writable sent and resolves once the queue workers have written it. */
  txDrained(): Promise<void>;
}

/** What a device readable lets its fused `pipeTo` do. */
export interface ReadableTaps {
  /** Packets the stream has queued that its reader has not read yet. */
  queued(): number;
  /** Takes the device's consumer gate for this stream (as its first read would); throws ERR_TUN_CONSUMER_ACTIVE. */
  claim(): void;
  /** The next received packet if one is there without waiting (cursor leftovers, then published batches). */
  takeNow(): Packet | undefined;
  /** True while a read of this device waits for packets (a pull from an earlier reader): then no fusion. */
  busy(): boolean;
  /**
   * Gives every ring slot the device's cursor still holds back to the workers
   * (the consumer caught up: packet-cursor.ts); fused workers use the RX ring
   * as their read buffer, so nothing may stay held while they run.
   */
  releaseAll(): void;
}

/** Device writables (created by `TunStreams.writable`) and their device. Module-private. */
const writableEnds = new WeakMap<WritableStream<never>, PipeEnd>();

/** Records `writable` as the writable of the device `end`: pipes into it may fuse. */
export function registerWritable(writable: WritableStream<WritablePacket>, end: PipeEnd): void {
  writableEnds.set(writable as WritableStream<never>, end);
}

/** Which path the latest `pipeTo` of a readable took (what `TunReadableStream.pipePath` reports). */
export type PipePath = 'fused' | 'standard';

/** A device's received packets; `pipeTo` into another device's writable fuses (see the file comment). */
export class TunReadableStream extends ReadableStream<Packet> {
  #end: PipeEnd;
  #taps: ReadableTaps;
  #path: PipePath | undefined;

  /** @internal Created by `TunStreams.readable` (packet-readable.ts). */
  constructor(source: UnderlyingSource<Packet>, strategy: QueuingStrategy<Packet>, end: PipeEnd, taps: ReadableTaps) {
    super(source, strategy);
    this.#end = end;
    this.#taps = taps;
  }

  /** 'fused' once the latest `pipeTo` of this stream switched to the queue workers, 'standard' while it runs on the main thread; undefined before any. */
  get pipePath(): PipePath | undefined {
    return this.#path;
  }

  /** The standard `pipeTo`, carried out by the queue workers when `destination` is a device writable. */
  override pipeTo(destination: WritableStream<Packet>, options: StreamPipeOptions = {}): Promise<void> {
    const dst = writableEnds.get(destination as WritableStream<never>);
    this.#path = 'standard';
    if (dst === undefined || !this.fusable(destination, dst, options)) return super.pipeTo(destination, options);
    return this.fused(destination, dst, options);
  }

  private fusable(dest: WritableStream<Packet>, dst: PipeEnd, options: StreamPipeOptions): boolean {
    if (typeof options !== 'object' || options === null) return false;
    const signal = options.signal;
    if (signal !== undefined && (!(signal instanceof AbortSignal) || signal.aborted)) return false;
    const src = this.#end;
    return src.fusePipes && dst.fusePipes && !this.locked && !dest.locked &&
      !src.queueSet.closed && !dst.queueSet.closed && !this.#taps.busy();
  }

  /** Fuses, waits for the end, un-fuses, and lets the standard pipeTo settle what is left. */
  private async fused(dest: WritableStream<Packet>, dst: PipeEnd, options: StreamPipeOptions): Promise<void> {
    const signal = options.signal;
    const reader = this.getReader();
    const writer = dest.getWriter();
    let targetError: unknown;
    let redirect: RxRedirect | undefined;
    try {
      this.#taps.claim();
      redirect = await this.#end.queueSet.redirectTo(dst.queueSet, {
        drain: () => this.drainInto(writer, reader, dst, signal),
      });
      this.#path = 'fused';
      const end = await endOf(redirect, signal);
      if (end?.cause === 'target') targetError = end.error;
    } catch {
      // Not fused (the gate is taken, a device closed, the drain met an error or
      // the abort): the standard pipe below meets the same condition and settles it.
    } finally {
      // Un-fuse: once this resolves A's workers pass packets to the RX ring again.
      await redirect?.revoke();
    }
    // B is gone: error its writable as the failed write of the standard pipe would.
    if (targetError !== undefined) await writer.abort(targetError).catch(ignore);
    reader.releaseLock();
    writer.releaseLock();
    return super.pipeTo(dest, options);
  }

  /**
   * Writes what A received before the switch through B's writable, while A's
   * workers hold their reads: first the packets this stream has queued, then the
   * cursor's and the rings'. Resolves once B's workers have written them all.
   */
  private async drainInto(
    writer: WritableStreamDefaultWriter<Packet>,
    reader: ReadableStreamDefaultReader<Packet>,
    dst: PipeEnd,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const taps = this.#taps;
    while (taps.queued() > 0) {
      const r = await reader.read();
      if (r.done) throw new TunError(StreamErrorCode.CLOSED, 'the device closed while the pipe fused');
      await writeOne(writer, r.value, signal);
    }
    for (let p = taps.takeNow(); p !== undefined; p = taps.takeNow()) await writeOne(writer, p, signal);
    await writer.ready; // the last packet is in B's TX ring: no view is needed any more
    taps.releaseAll();
    await dst.txDrained();
  }
}

/** Writes one packet once the writer has room (high-water mark 1: the previous one was copied into a TX ring). */
async function writeOne(writer: WritableStreamDefaultWriter<Packet>, packet: Packet, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw signal.reason;
  await writer.ready;
  writer.write(packet).catch(ignore); // a failure errors the stream: the next `ready` rejects
}

/** The redirect's end, or undefined when `signal` aborted first. */
function endOf(redirect: RxRedirect, signal: AbortSignal | undefined): Promise<RedirectEnd | undefined> {
  if (signal === undefined) return redirect.ended;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<RedirectEnd | undefined>((resolve) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    void redirect.ended.then((end) => {
      signal.removeEventListener('abort', onAbort);
      resolve(end);
    });
  });
}

function ignore(): void {}
