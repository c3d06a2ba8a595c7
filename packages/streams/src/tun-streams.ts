/**
 * `TunStreams`: one open device as streams, what `openTun()` returns.
 *
 * ```
 *            ┌──────────── TunStreams ─────────────┐
 * kernel ──► │ queue workers ─► RX rings ─► readable  (ReadableStream<Packet>)
 *            │                          ├► batches   (ReadableStream<PacketBatch>)
 *            │                          ├► packets$  (Observable<Packet>, shared)
 *            │                          └► for await (const p of tun)
 * kernel ◄── │ queue workers ◄─ TX rings ◄─ writable (WritableStream<Packet | Uint8Array>), send()
 *            │ device: core Device (addresses, routes, MTU...)   stats(), close()
 *            └─────────────────────────────────────┘
 * ```
 *
 * One consumer at a time reads received packets (consumer-gate.ts); writing has
 * no such limit. `readable`, `batches` and `writable` are created on first use
 * and the same object is returned until it has ended (closed, cancelled, errored,
 * aborted); the next access then gives a fresh one, so a device can be read again
 * after a consumer walked away. Ownership of received packets: packet-cursor.ts.
 */
import type { Observable } from 'rxjs';
import type { Device } from '@tunpipe/core';
import type { PacketBatch, QueueSet, QueueMode, QueueStats, StatTotals, BatchReader } from '@tunpipe/linux-mq';
import { ConsumerGate, type ConsumerKind } from './consumer-gate.js';
import { PacketCursor, type PacketCursorOptions } from './packet-cursor.js';
import { packetReadable } from './packet-readable.js';
import { registerWritable, type PipeEnd, type TunReadableStream } from './fused-pipe.js';
import { batchReadable } from './batch-readable.js';
import { packetObservable } from './packet-observable.js';
import { PacketSink, type PacketSendOptions, type TxQueuePolicy, type WritablePacket } from './packet-sink.js';
import type { Packet } from './packet.js';
import { abortedError } from './error-codes.js';

/** Counters of a device: linux-mq's totals over its queues, each queue's own, and the streams layer's. */
export type TunStats = StatTotals & {
  /** Per-queue snapshots (linux-mq `QueueStats`). */
  readonly queues: readonly QueueStats[];
  /** Packets taken from the rings that no consumer got: a packet consumer's unread rest when a `batches` consumer took over. */
  readonly discarded: number;
  /** Packets the writable dropped because they cannot be sent: empty, larger than a TX slot, a virtio header or queue out of range. */
  readonly rejected: number;
};

/** Options of `packets()`. */
export interface PacketIterationOptions {
  /** Ends the iteration: the pending or next step throws ERR_TUN_ABORTED. */
  signal?: AbortSignal | undefined;
}

/** @internal What `openTun()` hands the constructor. */
export interface TunStreamsConfig {
  cursor: PacketCursorOptions;
  txQueue: TxQueuePolicy;
  /** Pipes between devices may run in the queue workers (fused-pipe.ts). Default true. */
  fusePipes?: boolean;
}

/** An open device as Web Streams and RxJS; see the file comment. */
export class TunStreams implements AsyncDisposable, AsyncIterable<Packet> {
  /** The device, for configuration (name, MTU, addresses, routes); its fds belong to the queue set. */
  readonly device: Device;
  /** The linux-mq queue set underneath (queue attach/detach, workers, per-queue stats). */
  readonly queueSet: QueueSet;
  /** Received packets as a shared RxJS observable (see packet-observable.ts). */
  readonly packets$: Observable<Packet>;
  /** True when received packets are copies that own their bytes (`copy: true`). */
  readonly copiesPackets: boolean;
  /** Packets read after a batch before the batch is released (view mode; see packet-cursor.ts). */
  readonly retain: number;
  private readonly reader: BatchReader;
  private readonly spin: number;
  private readonly gate = new ConsumerGate();
  private readonly cursor: PacketCursor;
  private discarded = 0;
  private readonly sink: PacketSink;
  private currentReadable: TunReadableStream | undefined;
  private readonly pipeEnd: PipeEnd;
  private currentBatches: ReadableStream<PacketBatch> | undefined;
  private currentWritable: WritableStream<WritablePacket> | undefined;

  /** @internal Use `openTun()`. */
  constructor(queueSet: QueueSet, config: TunStreamsConfig) {
    this.queueSet = queueSet;
    this.device = queueSet.devices[0]!;
    this.reader = queueSet.reader(0);
    this.cursor = new PacketCursor(this.reader, config.cursor);
    this.spin = config.cursor.spin ?? 0;
    this.copiesPackets = config.cursor.copy;
    this.retain = config.cursor.retain;
    this.sink = new PacketSink(queueSet.writer(0), config.txQueue);
    this.packets$ = packetObservable(this.cursor, this.gate);
    const writer = queueSet.writer(0);
    this.pipeEnd = {
      queueSet,
      fusePipes: config.fusePipes ?? true,
      txDrained: () => {
        this.sink.flush();
        return writer.drained();
      },
    };
  }

  /** True when pipes between this device and another (`readable.pipeTo(other.writable)`) may run in the queue workers (`fusePipes`). */
  get fusePipes(): boolean {
    return this.pipeEnd.fusePipes;
  }

  /** Queues (worker threads) of the device. */
  get queues(): number {
    return this.queueSet.queues;
  }

  /** 'split' (superpackets cut into segments on the way in) or 'keep' (passed whole with their virtio header). */
  get mode(): QueueMode {
    return this.queueSet.mode;
  }

  /** The consumer currently reading received packets, if any. */
  get activeConsumer(): ConsumerKind | undefined {
    return this.gate.active;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.queueSet.closed;
  }

  /**
   * Received packets, one chunk per packet (object stream, high-water mark 0).
   * The same stream until it ends; then a fresh one. Ownership: packet-cursor.ts.
   * `readable.pipeTo(other.writable)` between devices runs in the queue workers
   * (fused-pipe.ts; `fusePipes`).
   */
  get readable(): TunReadableStream {
    if (this.currentReadable === undefined) {
      const stream = packetReadable(this.cursor, this.gate, () => {
        if (this.currentReadable === stream) this.currentReadable = undefined;
      }, this.pipeEnd);
      this.currentReadable = stream;
    }
    return this.currentReadable;
  }

  /** Received packets a batch per chunk (linux-mq `PacketBatch`, valid until the next read or `release()`). */
  get batches(): ReadableStream<PacketBatch> {
    if (this.currentBatches === undefined) {
      const stream = batchReadable(
        this.reader,
        this.cursor,
        this.gate,
        (n) => {
          this.discarded += n;
        },
        () => {
          if (this.currentBatches === stream) this.currentBatches = undefined;
        },
        this.spin,
      );
      this.currentBatches = stream;
    }
    return this.currentBatches;
  }

  /**
   * Packets to send (Packets or plain Uint8Arrays): high-water mark 1, each copied
   * into a TX ring before its write resolves (see packet-sink.ts). Closing it
   * publishes what was written; the device stays open until `close()`.
   */
  get writable(): WritableStream<WritablePacket> {
    if (this.currentWritable === undefined) {
      const stream: WritableStream<WritablePacket> = new WritableStream<WritablePacket>(
        this.sink.underlyingSink(() => {
          if (this.currentWritable === stream) this.currentWritable = undefined;
        }),
        new CountQueuingStrategy({ highWaterMark: 1 }),
      );
      registerWritable(stream, this.pipeEnd);
      this.currentWritable = stream;
    }
    return this.currentWritable;
  }

  /**
   * Received packets by async iteration (what `for await (const p of tun)` uses).
   * Holds the consumer gate from the first step until the loop is left; a loop
   * left early leaves the rest of the batch to the next consumer. Ownership as
   * for `readable` (packet-cursor.ts).
   */
  async *packets(options: PacketIterationOptions = {}): AsyncGenerator<Packet, void, undefined> {
    const { signal } = options;
    const lease = this.gate.claim('async iterator');
    const cursor = this.cursor;
    try {
      for (;;) {
        if (signal?.aborted) throw abortedError(signal);
        const packet = cursor.next();
        if (packet !== undefined) yield packet;
        else if (!(await cursor.fill(signal))) return;
      }
    } finally {
      lease.release();
    }
  }

  /** `packets()`: `for await (const packet of tun) ...`. */
  [Symbol.asyncIterator](): AsyncGenerator<Packet, void, undefined> {
    return this.packets();
  }

  /** Sends a packet, waiting for TX room; resolves once it was copied into the ring. */
  send(packet: WritablePacket, options?: PacketSendOptions): Promise<void> {
    return this.sink.send(packet, options);
  }

  /** Sends without waiting; false when the TX ring is full. */
  trySend(packet: WritablePacket): boolean {
    return this.sink.trySend(packet);
  }

  /** Publishes packets sent so far to the queue workers now (otherwise done every 64 packets and at the end of each event-loop turn). */
  flush(): void {
    this.sink.flush();
  }

  /** Counters: linux-mq's totals for the device plus per-queue snapshots. */
  stats(): TunStats {
    return { ...this.queueSet.totals(0), queues: this.queueSet.stats(), discarded: this.discarded, rejected: this.sink.rejected };
  }

  /**
   * Stops the queue workers (what is in the TX rings is still written), closes
   * the queue fds and the device. Readers then end normally, as soon as their
   * pending wait wakes (streams close, `packets$` completes, loops finish);
   * writes fail with ERR_TUN_CLOSED. Idempotent.
   */
  async close(): Promise<void> {
    this.sink.dispose();
    await this.queueSet.close();
    this.cursor.close();
  }

  /** Same as `close()`: `await using tun = await openTun(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
