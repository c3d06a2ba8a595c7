/**
 * `openQueues()` / `QueueSet`: one or more devices, each with N queues, each
 * queue fd pinned for life to its own worker thread (`queue-worker.ts`), with
 * shared-memory RX/TX rings between the workers and the main thread.
 *
 * ```
 *            device 0                         device 1
 *   fd q0 ── worker(0,0) ─ RX ring ─┐    fd q0 ── worker(1,0) ─ ...
 *   fd q1 ── worker(0,1) ─ RX ring ─┼─► reader(0)      FORWARD verdicts: worker(0,q)
 *            ▲      ▲               │                  writes straight to device 1's
 *   writer(0)┘ TX rings (flow hash) ┘                  queue q fd
 * ```
 *
 * Ownership: the set owns every queue fd and eventfd and closes them itself,
 * only after every worker has left its loop, so a worker never touches an fd
 * number that might have been reused. The `Device` objects in `devices` stay
 * usable for configuration (MTU, addresses, routes) until `close()`.
 */
import { Worker } from 'node:worker_threads';
import { sys, check, Device, DeviceBuilder, IoUring, constants as C } from '@tunpipe/core';
import { TunError, forgetRecentViews } from '@tunpipe/offload';
import { SlotRing, RingState, RingFailure, TAIL } from './slot-ring.js';
import { QueueControl, STOP, REQ_SEQ, REQ_OP, DONE_SEQ, RESULT, LIFE, QueueOp, WorkerLife } from './queue-control.js';
import { Doorbell } from './doorbell.js';
import { StatsTable, type QueueStats, type StatTotals } from './queue-stats.js';
import { BatchReader, ringError, type ReadOptions } from './batch-reader.js';
import { PacketWriter, type SendOptions } from './packet-writer.js';
import type { PacketBatch } from './packet-batch.js';
import { channels } from './diagnostics.js';
import { currentThreadCpus } from './cpu-affinity.js';
import { waitAsync } from './wait-async.js';
import { openNowaitRing, type ReadPath } from './uring-reads.js';
import type { ReadsOption } from './uring-reads.js';
import type { QueueWorkerPool } from './worker-pool.js';
import { invalid, ringBytes, resolveQueueOptions, type SetConfig } from './queue-options.js';
import { RxRedirect, type RedirectOptions } from './rx-redirect.js';
import { trimArenasSoon } from './arena-trim.js';
import type {
  QueueMode, HandlerErrorPolicy, QueueWorkerData, QueueThreadData, PeerDevice, WorkerMessage, ErrorInfo,
} from './worker-protocol.js';

/** The worker module, next to this file in dist/. */
const WORKER_URL = new URL('./queue-worker.js', import.meta.url);

/** CPU placement of the workers. */
export type AffinityOption =
  | 'none'
  | 'spread'
  | ((device: number, queue: number) => number | readonly number[] | null | undefined);

/** A handler error as reported to `onHandlerError` and `tunpipe:queue:handler-error`. */
export interface HandlerErrorEvent {
  /** Device index. */
  device: number;
  /** Queue index. */
  queue: number;
  /** The thrown error (re-created on the main thread: name, message, stack; code when it had one). */
  error: Error;
  /** Packets in the batch that threw. */
  packets: number;
  /** Further throws folded into this report (reports are at most one per 100 ms per queue). */
  suppressed: number;
}

/** Options of `openQueues`. */
export interface OpenQueuesOptions {
  /**
   * The devices: builders (built here; multi-queue is switched on when `queues` >
   * 1) or open Devices (the set takes over their fd). Build them while the thread
   * is in the namespace they belong to.
   */
  devices: ReadonlyArray<DeviceBuilder | Device>;
  /** Queues (worker threads) per device. Default 1. */
  queues?: number;
  /**
   * For offload devices: 'split' (default) cuts superpackets into MTU-sized
   * segments with full checksums; 'keep' hands them over whole with their
   * virtio_net_hdr (relays that pass superpackets through). TAP devices always keep.
   */
  mode?: QueueMode;
  /** RX ring slots per queue (rounded up to a power of two; a ring is at most 1 GiB). Default 1024, or 256 when slots hold superpackets (keep mode). */
  rxSlots?: number;
  /** TX ring slots per queue (rounded up to a power of two; a ring is at most 1 GiB). Default 256. */
  txSlots?: number;
  /** Largest packet an RX slot holds. Default: 65536 in keep mode on offload devices, else the MTU (at least 1500) plus link headers. */
  rxPacketCapacity?: number;
  /** Largest packet a TX slot holds (superpackets need 65536). Default 65536. */
  txPacketCapacity?: number;
  /** Packets read per batch in the workers. Default IDEAL_BATCH_SIZE (128). */
  batchSize?: number;
  /** Most packets per batch handed to the main thread. Default 256. */
  maxBatch?: number;
  /** Batches a consumer may hold (not yet released) per queue before reads wait for a release. Default 16. */
  maxOutstanding?: number;
  /** Path or URL of an in-worker handler module (see handler-api.ts). */
  handler?: string | URL;
  /** Passed to the handler module's `init(context)` as `context.data` (structured clone). */
  handlerData?: unknown;
  /** When the handler throws: 'drop' the batch (default), 'pass' it to the main thread, or fail the queue ('fatal'). */
  handlerErrors?: HandlerErrorPolicy;
  /** Called on the main thread for each handler error report. */
  onHandlerError?: (event: HandlerErrorEvent) => void;
  /** Pin workers to CPUs: 'spread' puts queue q on the q-th allowed CPU (modulo); a function decides per queue. Default 'none'. */
  affinity?: AffinityOption;
  /** Milliseconds between `tunpipe:queue:stats` publications (only with subscribers). 0 turns it off. Default 1000. */
  statsInterval?: number;
  /**
   * Node options for the queue worker threads. Default: the parent's
   * `process.execArgv`, as Node does (a handler module may need the parent's
   * `--import` loaders, e.g. for TypeScript). `[]` starts and stops workers without
   * them, which is faster when the parent runs under instrumenting hooks.
   */
  execArgv?: readonly string[];
  /**
   * How workers read packets off the fd (no offload, or keep mode; split mode
   * always uses read(2)): 'io_uring' submits every batch of reads with one
   * io_uring_enter (fewer boundary crossings per packet), 'syscall' one read(2)
   * per packet, 'auto' (default) reads bursts through io_uring and a few packets
   * per wake-up with read(2) when a ring can be set up (not ENOSYS, nor EPERM
   * from io_uring_disabled or seccomp), else read(2) only. `workers()` says
   * whether a ring is in use. 'io_uring' throws ERR_TUN_IO_URING here when it
   * is unavailable.
   */
  reads?: ReadsOption;
  /**
   * Threads for the queues: taken from this pool (idle ones first) and given back
   * to it when the set closes, instead of started here and ended by `close()`.
   * For a process that opens and closes sets many times (worker-pool.ts says what
   * each new thread costs). Default: none.
   */
  workerPool?: QueueWorkerPool;
}

/** One worker as `workers()` lists it. */
export interface QueueWorkerInfo {
  /** Device index. */
  device: number;
  /** Queue index. */
  queue: number;
  /** Kernel thread id. */
  tid: number;
  /** CPUs it is pinned to, or null. */
  affinity: number[] | null;
  /** The read path it runs: 'io_uring' or 'syscall' (see the `reads` option). */
  reads: ReadPath;
  /** True while it runs its loop. */
  running: boolean;
}

/** Everything the set keeps per queue. */
interface QueueSlot {
  device: number;
  queue: number;
  fd: number;
  eventFd: number;
  rx: SlotRing;
  tx: SlotRing;
  control: QueueControl;
  worker: Worker | undefined;
  exited: Promise<void>;
  tid: number;
  affinity: number[] | null;
  reads: ReadPath;
  requests: Promise<void>;
}

const ONE = new Uint8Array(new BigUint64Array([1n]).buffer);

function rebuildError(info: ErrorInfo): Error {
  const e = new Error(info.message);
  e.name = info.name;
  if (info.stack !== undefined) e.stack = info.stack;
  if (info.code !== undefined) (e as Error & { code?: string }).code = info.code;
  return e;
}

/** Opens the devices' queues and starts one worker per queue; resolves once every worker is ready. */
export async function openQueues(options: OpenQueuesOptions): Promise<QueueSet> {
  const config = resolveQueueOptions(options);
  // Forced io_uring: refuse now (ERR_TUN_IO_URING, with errno when setup failed), before anything is built.
  if (config.reads === 'io_uring') openNowaitRing(() => IoUring.open({ entries: 1 })).close();
  const { queues } = config;

  const devices: Device[] = [];
  const fds: number[][] = [];
  try {
    for (const spec of config.devices) {
      let dev: Device;
      if (spec instanceof DeviceBuilder) {
        if (queues > 1) spec.multiQueue(true);
        dev = spec.build();
      } else {
        dev = spec;
      }
      devices.push(dev);
      if (dev.packetInformation() && dev.vnetHdr) {
        throw new TunError('ERR_TUN_NOT_SUPPORTED', 'a device with both packet information and a virtio header is not supported');
      }
      const queueFds: number[] = [];
      fds.push(queueFds);
      if (queues > 1 && !dev.multiQueue()) {
        throw new TunError('ERR_TUN_NOT_SUPPORTED', `${queues} queues need a multi-queue device (.multiQueue(true))`);
      }
      for (let q = 1; q < queues; q++) {
        const clone = dev.cloneQueue();
        try {
          queueFds.push(clone.intoRawFd());
        } finally {
          clone.close();
        }
      }
      queueFds.unshift(dev.intoRawFd());
    }
  } catch (e) {
    for (const list of fds) for (const fd of list) sys.close(fd);
    for (const d of devices) d.close();
    throw e;
  }

  let set: QueueSet;
  try {
    set = new QueueSet(devices, fds, config);
  } catch (e) {
    // The set never owned the fds: close them (and the devices) as a failed build would.
    for (const list of fds) for (const fd of list) sys.close(fd);
    for (const d of devices) d.close();
    throw e instanceof RangeError ? invalid(`the queue rings cannot be allocated: ${e.message}`) : e;
  }
  try {
    await set.start();
  } catch (e) {
    await set.close();
    throw e;
  }
  return set;
}

/** Open queues of one or more devices; see the file comment. */
export class QueueSet implements AsyncDisposable {
  /** The devices, for configuration (name, MTU, addresses, routes...). Their fds belong to the set. */
  readonly devices: readonly Device[];
  /** Queues per device. */
  readonly queues: number;
  /** 'split' or 'keep'. */
  readonly mode: QueueMode;
  private readonly slots: QueueSlot[][];
  private readonly readers: BatchReader[];
  private readonly writers: PacketWriter[];
  private readonly bells: Doorbell[];
  private readonly table: StatsTable;
  private readonly config: SetConfig;
  private statsTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  /** RX redirects out of this set's devices (rx-redirect.ts). */
  private readonly outbound = new Set<RxRedirect>();
  /** RX redirects into this set's devices: revoked before any fd closes. */
  private readonly inbound = new Set<RxRedirect>();

  /** @internal Use `openQueues`. */
  constructor(devices: Device[], fds: number[][], config: SetConfig) {
    this.devices = devices;
    this.queues = config.queues;
    this.mode = config.mode;
    this.config = config;
    this.table = new StatsTable(devices.length, config.queues);
    this.bells = devices.map(() => new Doorbell());
    this.slots = devices.map((dev, d) => {
      const keep = config.mode === 'keep' || dev.layer() === 'l2';
      const superSlots = dev.vnetHdr && keep;
      const rxCapacity = config.rxCapacity ?? (superSlots ? 65536 : defaultPacketCapacity(dev));
      const rxSlots = config.rxSlots ?? (superSlots ? 256 : 1024);
      // Given sizes were checked by resolveQueueOptions; the ring is checked here with the device's defaults.
      ringBytes(rxSlots, rxCapacity, 'RX');
      return fds[d]!.map((fd, q) => ({
        device: d,
        queue: q,
        fd,
        eventFd: -1,
        rx: SlotRing.create(rxSlots, rxCapacity),
        tx: SlotRing.create(config.txSlots, config.txCapacity),
        control: new QueueControl(),
        worker: undefined,
        exited: Promise.resolve(),
        tid: 0,
        affinity: null,
        reads: 'syscall',
        requests: Promise.resolve(),
      }));
    });
    this.readers = devices.map((_, d) => new BatchReader(
      d,
      this.slots[d]!.map((s) => s.rx),
      this.bells[d]!,
      (q) => this.kick(d, q),
      this.table,
      { maxBatch: config.maxBatch, maxOutstanding: config.maxOutstanding },
    ));
    this.writers = devices.map((_, d) => new PacketWriter(
      d,
      this.slots[d]!.map((s) => s.tx),
      this.slots[d]!.map((s) => s.rx),
      this.slots[d]!.map((s) => s.control),
      (q) => this.kick(d, q),
      this.table,
    ));
  }

  /** @internal Creates the eventfds and starts the workers; resolves when all are ready. */
  async start(): Promise<void> {
    const all = this.slots.flat();
    for (const s of all) {
      s.eventFd = check(sys.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC), 'ERR_TUN_WORKER', 'eventfd', `device ${s.device} queue ${s.queue}`);
    }
    const peers: PeerDevice[] = this.devices.map((_, d) => this.peerOf(d));
    const allowed = this.config.affinity === 'spread' ? currentThreadCpus() : [];
    const ready = all.map((s) => this.spawn(s, peers, allowed));
    await Promise.all(ready);
    if (this.config.statsInterval > 0) {
      this.statsTimer = setInterval(() => {
        if (channels.stats.hasSubscribers) channels.stats.publish({ stats: this.stats() });
      }, this.config.statsInterval);
      this.statsTimer.unref();
    }
  }

  /** Device `d` as another worker writes to it (egress). */
  private peerOf(d: number): PeerDevice {
    const dev = this.devices[d]!;
    const l3 = dev.layer() === 'l3';
    return {
      vnetHdr: dev.vnetHdr,
      tcpGso: l3 && dev.tcpGso(),
      udpGso: l3 && dev.udpGso(),
      fds: this.slots[d]!.map((s) => s.fd),
      controls: this.slots[d]!.map((s) => s.control.buffer),
    };
  }

  private spawn(s: QueueSlot, peers: PeerDevice[], allowed: number[]): Promise<void> {
    const dev = this.devices[s.device]!;
    const mode: QueueMode = dev.layer() === 'l2' ? 'keep' : this.mode;
    const data: QueueWorkerData = {
      device: s.device,
      queue: s.queue,
      queues: this.queues,
      fd: s.fd,
      eventFd: s.eventFd,
      mode,
      batchSize: this.config.batchSize,
      rx: s.rx.descriptor,
      tx: s.tx.descriptor,
      control: s.control.buffer,
      doorbell: this.bells[s.device]!.buffer,
      stats: this.table.buffer,
      peers,
      handler: this.config.handler,
      handlerErrors: this.config.handlerErrors,
      affinity: this.affinityFor(s.device, s.queue, allowed),
      reads: this.config.reads,
    };
    const pool = this.config.workerPool;
    const thread: QueueThreadData = { job: data, pooled: false, gcFlagLock: null };
    const worker = pool === null
      ? new Worker(WORKER_URL, { workerData: thread, ...(this.config.execArgv === undefined ? {} : { execArgv: this.config.execArgv }) })
      : pool.take(data, WORKER_URL, this.config.execArgv);
    s.worker = worker;
    let ready = false;
    let startError: Error | undefined;
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    const started = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    // The queue's end: the thread exited, or (pooled) it released the job. The
    // listeners are the job's: a pooled thread goes on to serve another set.
    let ended!: () => void;
    s.exited = new Promise<void>((res) => {
      ended = res;
    });
    const end = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (s.worker === worker) s.worker = undefined;
      this.onExit(s);
      ended();
    };
    const onMessage = (m: WorkerMessage): void => {
      if (m.type === 'ready') {
        ready = true;
        s.tid = m.tid;
        s.affinity = m.affinity;
        s.reads = m.reads;
        if (channels.lifecycle.hasSubscribers) channels.lifecycle.publish({ device: s.device, queue: s.queue, event: 'ready' });
        resolveReady();
      } else if (m.type === 'released') {
        end();
      } else {
        this.onMessage(s, m);
      }
    };
    const onError = (e: Error): void => {
      if (!ready) {
        startError = e;
        return;
      }
      s.rx.fail(RingFailure.WORKER);
      if (channels.error.hasSubscribers) {
        const error = new TunError('ERR_TUN_WORKER', `device ${s.device} queue ${s.queue}: the worker died: ${e.message}`, { cause: e });
        channels.error.publish({ device: s.device, queue: s.queue, error });
      }
    };
    const onExit = (code: number): void => {
      if (!ready) {
        const e = startError;
        const code2 = this.config.handler !== null ? 'ERR_TUN_HANDLER' : 'ERR_TUN_WORKER';
        rejectReady(new TunError(code2, `device ${s.device} queue ${s.queue}: the worker failed to start${e ? `: ${e.message}` : ` (exit code ${code})`}`, { cause: e }));
      }
      end();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    return started;
  }

  private affinityFor(d: number, q: number, allowed: number[]): number[] | null {
    const a = this.config.affinity;
    if (a === 'none') return null;
    if (a === 'spread') return allowed.length === 0 ? null : [allowed[q % allowed.length]!];
    const r = a(d, q);
    if (r === null || r === undefined) return null;
    const list = typeof r === 'number' ? [r] : [...r];
    for (const cpu of list) if (!Number.isInteger(cpu) || cpu < 0 || cpu >= 1024) throw invalid(`affinity: bad CPU ${cpu}`);
    return list;
  }

  private onMessage(s: QueueSlot, m: WorkerMessage): void {
    if (m.type === 'handler-error') {
      const event: HandlerErrorEvent = {
        device: s.device, queue: s.queue, error: rebuildError(m.error), packets: m.packets, suppressed: m.suppressed,
      };
      if (channels.handlerError.hasSubscribers) channels.handlerError.publish(event);
      this.config.onHandlerError?.(event);
    } else if (m.type === 'failed') {
      this.redirectsEnded(s, ringError(s.rx, s.device, s.queue));
      if (channels.error.hasSubscribers) {
        channels.error.publish({ device: s.device, queue: s.queue, error: ringError(s.rx, s.device, s.queue) });
      }
    }
  }

  private onExit(s: QueueSlot): void {
    // A worker that died without leaving its loop properly never marked its rings.
    if (s.rx.state === RingState.OPEN && this.closing === undefined) s.rx.fail(RingFailure.WORKER);
    this.redirectsEnded(s, s.rx.state === RingState.FAILED
      ? ringError(s.rx, s.device, s.queue)
      : new TunError('ERR_TUN_CLOSED', `device ${s.device} queue ${s.queue} is closed`));
    s.rx.close();
    s.tx.close();
    Atomics.store(s.control.words, LIFE, WorkerLife.EXITED);
    this.bells[s.device]!.ring();
    Atomics.notify(s.tx.control, TAIL);
    Atomics.notify(s.control.words, DONE_SEQ);
    if (channels.lifecycle.hasSubscribers) channels.lifecycle.publish({ device: s.device, queue: s.queue, event: 'exit' });
  }

  /** Queue `s` stopped (failed, or exited): the redirects from and to its device are over. */
  private redirectsEnded(s: QueueSlot, error: TunError): void {
    for (const r of this.outbound) if (r.device === s.device) r.end('source', error);
    for (const r of this.inbound) if (r.targetDevice === s.device) r.end('target', error);
  }

  /** Writes a queue worker's eventfd. */
  private kick(d: number, q: number): void {
    const s = this.slots[d]![q]!;
    if (s.eventFd >= 0) sys.write(s.eventFd, ONE, 8);
  }

  private device(d: number): number {
    if (!Number.isInteger(d) || d < 0 || d >= this.devices.length) {
      throw invalid(`device must be 0..${this.devices.length - 1}, got ${String(d)}`);
    }
    return d;
  }

  /** The reader of device `device`'s received packets (one per device, shared by all callers). */
  reader(device = 0): BatchReader {
    return this.readers[this.device(device)]!;
  }

  /** The writer of device `device`. */
  writer(device = 0): PacketWriter {
    return this.writers[this.device(device)]!;
  }

  /** `reader(device).batches(options)`: `for await (const batch of set.batches(0)) ...` */
  batches(device = 0, options: ReadOptions = {}): AsyncGenerator<PacketBatch, void, undefined> {
    return this.reader(device).batches(options);
  }

  /** Sends a packet (or superpacket with `virtioHeader`) out of `device`, waiting for TX room. */
  send(device: number, packet: Uint8Array, options?: SendOptions): Promise<void> {
    return this.writer(device).send(packet, options);
  }

  /** Sends without waiting; false when the chosen queue's TX ring is full. */
  trySend(device: number, packet: Uint8Array, options?: SendOptions): boolean {
    return this.writer(device).trySend(packet, options);
  }

  /** A snapshot of every queue's counters (device-major). */
  stats(): QueueStats[] {
    return this.table.snapshotAll();
  }

  /** Counters summed over the queues of `device`, or of every device. */
  totals(device?: number): StatTotals {
    const all = this.stats();
    return StatsTable.total(device === undefined ? all : all.filter((s) => s.device === this.device(device)));
  }

  /** The workers, with thread ids and CPU pinning. */
  workers(): QueueWorkerInfo[] {
    return this.slots.flat().map((s) => ({
      device: s.device, queue: s.queue, tid: s.tid, affinity: s.affinity, reads: s.reads,
      running: s.control.life === WorkerLife.RUNNING,
    }));
  }

  /** Queues of `device` currently attached. */
  attachedQueues(device = 0): number[] {
    return this.writer(device).attachedQueues();
  }

  /** Detaches queue `queue` of `device` (TUNSETQUEUE IFF_DETACH_QUEUE): the kernel stops steering flows to it. */
  detachQueue(device: number, queue: number): Promise<void> {
    return this.request(device, queue, QueueOp.DETACH);
  }

  /** Re-attaches a detached queue (TUNSETQUEUE IFF_ATTACH_QUEUE). */
  attachQueue(device: number, queue: number): Promise<void> {
    return this.request(device, queue, QueueOp.ATTACH);
  }

  /**
   * Sends `device` an RX redirect into `target`'s device (see rx-redirect.ts):
   * holds the source workers' reads, runs `options.drain`, then switches them
   * over. Resolves with the handle once every source worker writes to the
   * target. Throws ERR_TUN_CLOSED (either set closed, or closing meanwhile),
   * ERR_TUN_REDIRECT_ACTIVE (the device is already redirected), or what
   * `drain` threw; the source then reads as before.
   */
  async redirectTo(target: QueueSet, options: RedirectOptions = {}): Promise<RxRedirect> {
    if (!(target instanceof QueueSet)) throw invalid('redirectTo needs a QueueSet');
    const d = this.device(options.device ?? 0);
    const td = target.device(options.targetDevice ?? 0);
    if (options.drain !== undefined && typeof options.drain !== 'function') throw invalid('drain must be a function');
    if (this.closing !== undefined || target.closing !== undefined) throw new TunError('ERR_TUN_CLOSED', 'the queue set is closed');
    for (const r of this.outbound) {
      if (r.device === d) throw new TunError('ERR_TUN_REDIRECT_ACTIVE', `device ${d} is already redirected`);
    }
    const slots = this.slots[d]!;
    const r: RxRedirect = new RxRedirect(this, d, target, td, () => this.unredirect(r));
    // In the target's set from now on: its close() revokes this before closing fds.
    this.outbound.add(r);
    target.inbound.add(r);
    try {
      await Promise.all(slots.map((s) => this.request(d, s.queue, QueueOp.HOLD)));
      if (options.drain !== undefined) await options.drain();
      const ended = r.outcomeIfEnded;
      if (ended !== undefined) throw ended.error ?? new TunError('ERR_TUN_CLOSED', 'the redirect ended before it started');
      // Enqueued synchronously after the check: a revoke from now on queues its
      // UNREDIRECT behind these, so the target's fds outlive every write.
      const peer = target.peerOf(td);
      await Promise.all(slots.map((s) => this.request(d, s.queue, QueueOp.REDIRECT, () => {
        s.worker?.postMessage({ type: 'redirect', target: peer });
      })));
    } catch (e) {
      await r.revoke();
      throw e;
    }
    r.markSwitched();
    if (r.outcomeIfEnded !== undefined) await r.revoke();
    return r;
  }

  /** Ends redirect `r` in every source worker; resolves once none can write to the target. */
  private async unredirect(r: RxRedirect): Promise<void> {
    await Promise.all(this.slots[r.device]!.map((s) =>
      this.request(r.device, s.queue, QueueOp.UNREDIRECT).catch(() => Promise.race([s.exited, loopLeft(s.control)]))));
    this.outbound.delete(r);
    r.target.inbound.delete(r);
  }

  private request(device: number, queue: number, op: number, before?: () => void): Promise<void> {
    const d = this.device(device);
    if (!Number.isInteger(queue) || queue < 0 || queue >= this.queues) throw invalid(`queue must be 0..${this.queues - 1}, got ${queue}`);
    const s = this.slots[d]![queue]!;
    const run = async (): Promise<void> => {
      const w = s.control.words;
      const name = OP_NAMES[op]!;
      if (this.closing !== undefined) throw new TunError('ERR_TUN_CLOSED', 'the queue set is closed');
      if (s.control.life === WorkerLife.EXITED) {
        if (s.rx.state === RingState.FAILED) throw ringError(s.rx, d, queue);
        throw new TunError('ERR_TUN_CLOSED', `device ${d} queue ${queue} is closed`);
      }
      const seq = (Atomics.load(w, REQ_SEQ) + 1) | 0;
      before?.();
      Atomics.store(w, REQ_OP, op);
      Atomics.store(w, REQ_SEQ, seq);
      this.kick(d, queue);
      for (;;) {
        const done = Atomics.load(w, DONE_SEQ);
        if (done === seq) break;
        if (s.control.life === WorkerLife.EXITED) throw new TunError('ERR_TUN_CLOSED', `device ${d} queue ${queue} closed during ${name}`);
        const r = waitAsync(w, DONE_SEQ, done);
        if (r.async) await r.value;
      }
      const err = Atomics.load(w, RESULT);
      if (err !== 0) {
        throw new TunError('ERR_TUN_IOCTL', `device ${d} queue ${queue}: ioctl(TUNSETQUEUE, ${name}) failed`, {
          errno: err, syscall: 'ioctl(TUNSETQUEUE)',
        });
      }
      if (channels.lifecycle.hasSubscribers) channels.lifecycle.publish({ device: d, queue, event: OP_EVENTS[op]! });
    };
    const p = s.requests.then(run, run);
    s.requests = p.catch(() => undefined);
    return p;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Stops every worker (each leaves poll() at once through its eventfd, sends what
   * is already in its TX ring, and exits), then closes every queue fd, eventfd and
   * device. Readers end (`read()` resolves null), writers throw ERR_TUN_CLOSED.
   * Idempotent; resolves when everything is closed.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async shutdown(): Promise<void> {
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    // Workers of other sets hold our fd numbers while they redirect into us: no fd
    // closes before each of them has let go (rx-redirect.ts). Not awaited before
    // our own workers are stopped: a source set closing at the same time lets go
    // when its loops are left, which waits for nothing of ours.
    // A redirect into our own device ends as its source's: the reader's end decides.
    const closed = new TunError('ERR_TUN_CLOSED', 'the queue set is closed');
    for (const r of this.outbound) r.end('source', undefined);
    for (const r of this.inbound) r.end('target', closed);
    const released = Promise.all([...this.inbound].map((r) => r.revoke()));
    for (const w of this.writers) w.close();
    const all = this.slots.flat();
    for (const s of all) {
      Atomics.store(s.control.words, STOP, 1);
      this.kick(s.device, s.queue);
    }
    // A handler stuck in JavaScript (an endless loop) never sees STOP: terminate it.
    const grace = setTimeout(() => {
      for (const s of all) void s.worker?.terminate();
    }, 1000);
    // The fds can go as soon as every loop is left (LIFE = EXITED, well before the
    // thread itself is torn down); then wait for the threads.
    try {
      await Promise.all(all.map((s) => Promise.race([s.exited, loopLeft(s.control)])));
      // Our loops are left: nothing writes to the targets of our redirects any more.
      for (const r of this.outbound) r.target.inbound.delete(r);
      this.outbound.clear();
      await released;
      this.closeFds(all);
      await Promise.all(all.map((s) => s.exited));
    } finally {
      clearTimeout(grace);
      await released; // never rejects (unredirect waits for a loop to be left instead)
      this.closeFds(all);
    }
    for (const d of this.devices) d.close();
    for (const b of this.bells) b.ring();
    // The main thread's offload view cache may hold this set's rings (send path).
    forgetRecentViews();
    // Every worker thread is joined; what they freed goes back to the kernel on
    // the next turn, outside close()'s time (arena-trim.ts).
    trimArenasSoon();
  }

  private closeFds(all: QueueSlot[]): void {
    for (const s of all) {
      if (s.fd >= 0) sys.close(s.fd);
      if (s.eventFd >= 0) sys.close(s.eventFd);
      s.fd = -1;
      s.eventFd = -1;
      s.rx.close();
      s.tx.close();
    }
  }
}

/** TUNSETQUEUE flag names (attach/detach) and request names, for errors. */
const OP_NAMES: Record<number, string> = {
  [QueueOp.ATTACH]: 'IFF_ATTACH_QUEUE',
  [QueueOp.DETACH]: 'IFF_DETACH_QUEUE',
  [QueueOp.HOLD]: 'hold',
  [QueueOp.REDIRECT]: 'redirect',
  [QueueOp.UNREDIRECT]: 'unredirect',
};

/** `tunpipe:queue:lifecycle` event of each completed request. */
const OP_EVENTS: Record<number, string> = {
  [QueueOp.ATTACH]: 'attached',
  [QueueOp.DETACH]: 'detached',
  [QueueOp.HOLD]: 'held',
  [QueueOp.REDIRECT]: 'redirected',
  [QueueOp.UNREDIRECT]: 'unredirected',
};

/** Resolves once the worker of `control` has left its loop. */
async function loopLeft(control: QueueControl): Promise<void> {
  for (;;) {
    const life = Atomics.load(control.words, LIFE);
    if (life === WorkerLife.EXITED) return;
    const r = waitAsync(control.words, LIFE, life);
    if (r.async) await r.value;
  }
}

/**
 * MTU (at least 1500) plus what precedes an IP packet on this device, plus one
 * byte: a read that fills its slot is taken as cut short (queue-loop.ts), so a
 * full MTU-sized packet needs one byte to spare.
 */
function defaultPacketCapacity(dev: Device): number {
  const link = dev.layer() === 'l2' ? 14 + 4 : 0;
  const pi = dev.packetInformation() ? 4 : 0;
  return Math.min(65536, Math.max(dev.mtu(), 1500) + link + pi + 1);
}
