/**
 * `QueueLoop`: the body of one queue worker. It owns one TUN queue fd for the
 * worker's whole life and runs a synchronous loop:
 *
 * ```
 *   ┌─► requests (attach/detach) ─► TX ring → egress (GRO / split) → write(fd)
 *   │   read ≤ batchSize packets straight into RX slots (or split superpackets
 *   │   from a scratch buffer into slots) → handler verdicts → publish HEAD
 *   └── nothing to do: poll([fd, eventfd], -1)
 * ```
 *
 * Nothing here waits anywhere but in `poll()`, and every wake-up source writes
 * the worker's eventfd (the main thread after a TX publish when the worker said
 * it sleeps, after freeing RX slots when the worker said the ring was full, and
 * for requests and close). The loop allocates nothing per packet.
 */
import { sys, errno, constants as C } from '@tunpipe/core';
import { handleVirtioRead, VIRTIO_NET_HDR_LEN } from '@tunpipe/offload';
import {
  SlotRing, CONSUMER_WAITING, PRODUCER_WAITING, TAIL, RingFailure, SKIP, SLOT_CSUM_VALID,
} from './slot-ring.js';
import { Doorbell } from './doorbell.js';
import {
  STOP, ATTACHED, REQ_SEQ, REQ_OP, DONE_SEQ, RESULT, LIFE, QueueOp, WorkerLife,
} from './queue-control.js';
import { Stat, StatsTable } from './queue-stats.js';
import { Verdict } from './verdict.js';
import { ViewWindows, Int32Windows, Uint8Windows } from './view-windows.js';
import { Egress } from './egress.js';
import { estimateSegments } from './segment-estimate.js';
import type { HandlerBatch, PacketHandler } from './handler-api.js';
import { UringReads, type ReadPath } from './uring-reads.js';
import { SyscallReads, QUEUE_EMPTY, type SlotFiller } from './syscall-reads.js';
import { errorInfo, type QueueWorkerData, type WorkerMessage, type RedirectMessage } from './worker-protocol.js';

/** readBatch/sleep outcomes. */
const MORE = 0;
const IDLE = 1;
const GONE = 2;
const FAILED = 3;

/** Largest read: a 64 KiB superpacket plus its virtio header, with room to spare. */
const SCRATCH_BYTES = VIRTIO_NET_HDR_LEN + 65536 + 64;

/** Minimum time between two handler-error reports to the main thread. */
const HANDLER_REPORT_MS = 100;

/** errno values that mean the device (or our queue's link to it) is gone. */
function isGoneErrno(e: number): boolean {
  return e === C.EBADFD || e === C.EIO || e === C.ENODEV || e === C.ENXIO;
}

/** The reusable batch object a handler receives. */
class WorkerBatch implements HandlerBatch {
  readonly device: number;
  readonly queue: number;
  readonly offset = VIRTIO_NET_HDR_LEN;
  readonly capacity: number;
  count = 0;
  bufs: Uint8Array[] = [];
  lengths: Int32Array = new Int32Array(0);
  verdicts: Uint8Array = new Uint8Array(0);
  private readonly vnet: boolean;

  constructor(device: number, queue: number, capacity: number, vnet: boolean) {
    this.device = device;
    this.queue = queue;
    this.capacity = capacity;
    this.vnet = vnet;
  }

  hasVirtioHeader(i: number): boolean {
    return this.vnet && i >= 0 && i < this.count;
  }
}

/** One queue worker's loop; `run()` returns when the queue stops or fails. */
export class QueueLoop {
  private readonly data: QueueWorkerData;
  private readonly fd: number;
  private readonly eventFd: number;
  private readonly rx: SlotRing;
  private readonly tx: SlotRing;
  private readonly ctl: Int32Array;
  private readonly bell: Doorbell;
  private readonly st: Float64Array;
  private readonly sb: number;
  private readonly vnet: boolean;
  private readonly split: boolean;
  private readonly batchSize: number;
  private readonly handler: PacketHandler | null;
  private readonly post: (m: WorkerMessage) => void;
  /** Takes the next message the main thread posted to this worker (synchronously), or undefined. */
  private readonly receive: () => unknown;
  private readonly egress: Egress;
  /** readDirect through io_uring (uring-reads.ts), or null: read(2) per packet. */
  private readonly uring: UringReads | null;
  /** readDirect's reads: `uring`, or read(2) per packet (syscall-reads.ts); null in split mode. */
  private readonly reads: SlotFiller | null;
  /** The read path this worker runs: 'io_uring' (direct reads batched in one io_uring_enter) or 'syscall'. */
  readonly readPath: ReadPath;

  // poll(2) set: struct pollfd { int fd; short events; short revents; } x 2, <poll.h>
  private readonly pollBytes = new Uint8Array(16);
  private readonly pollI32 = new Int32Array(this.pollBytes.buffer);
  private readonly pollI16 = new Int16Array(this.pollBytes.buffer);
  private readonly counter = new Uint8Array(8);
  // struct ifreq for TUNSETQUEUE: 16-byte name (unused) + ifr_flags (short) at 16, <linux/if.h>
  private readonly ifreq = new Uint8Array(C.IFREQ_SIZE);

  private rxHead: number;
  private txTail: number;
  private doneSeq: number;
  private attached = true;
  /** Reading is held (QueueOp.HOLD): the first step of an RX redirect. */
  private held = false;
  /** Slots of one batch that go to the redirect target. */
  private readonly redirectSlots: Int32Array;
  private lastErrno = 0;
  private fatal: unknown = undefined;

  // split mode: one read held in scratch until the ring has room for its segments
  private readonly scratch: Uint8Array;
  private readonly scratchViews: Uint8Array[] = [];
  private pendingLen = 0;
  private pendingSegs = 0;
  private readonly sizes: Int32Array;

  // handler plumbing
  private readonly windows = new ViewWindows();
  private readonly lenWindows: Int32Windows;
  private readonly verdictWindows: Uint8Windows;
  private readonly batch: WorkerBatch;
  private readonly groups: Int32Array[];
  private readonly groupCounts: Int32Array;
  private readonly txSlots: Int32Array;
  private lastReport = 0;
  private suppressed = 0;

  /** Attaches to the shared structures described by `data`. */
  constructor(data: QueueWorkerData, handler: PacketHandler | null, post: (m: WorkerMessage) => void, receive: () => unknown = () => undefined) {
    this.data = data;
    this.fd = data.fd;
    this.eventFd = data.eventFd;
    this.rx = SlotRing.attach(data.rx);
    this.tx = SlotRing.attach(data.tx);
    this.ctl = new Int32Array(data.control);
    this.bell = new Doorbell(data.doorbell);
    const table = new StatsTable(data.peers.length, data.queues, data.stats);
    this.st = table.values;
    this.sb = table.base(data.device, data.queue);
    const self = data.peers[data.device]!;
    this.vnet = self.vnetHdr;
    this.split = self.vnetHdr && data.mode === 'split';
    this.batchSize = Math.max(1, Math.min(data.batchSize, this.rx.slots));
    // Split mode reads superpackets into scratch with read(2): one call per up to 64 KB.
    this.uring = this.split ? null : UringReads.open(data.reads, this.rx, this.fd, this.vnet, this.batchSize, this.st, this.sb);
    this.readPath = this.uring === null ? 'syscall' : 'io_uring';
    this.reads = this.split ? null : this.uring ?? new SyscallReads(this.rx, this.fd, this.vnet, this.st, this.sb);
    this.handler = handler;
    this.post = post;
    this.receive = receive;
    this.egress = new Egress(data.peers, this.st, this.sb, data.queue);
    this.rxHead = Atomics.load(this.rx.control, 0);
    this.txTail = Atomics.load(this.tx.control, TAIL);
    this.doneSeq = Atomics.load(this.ctl, DONE_SEQ);
    this.scratch = this.split ? new Uint8Array(SCRATCH_BYTES) : new Uint8Array(0);
    this.sizes = new Int32Array(this.rx.slots);
    const most = this.rx.slots;
    this.lenWindows = new Int32Windows(most);
    this.verdictWindows = new Uint8Windows(most);
    this.batch = new WorkerBatch(data.device, data.queue, this.rx.packetCapacity, this.vnet && !this.split);
    this.groups = data.peers.map(() => new Int32Array(most));
    this.groupCounts = new Int32Array(data.peers.length);
    this.txSlots = new Int32Array(Math.max(this.batchSize, 1));
    this.redirectSlots = new Int32Array(most);
  }

  /** Runs until stop is requested or the queue fails; never throws. Returns the RingFailure (NONE when stopped). */
  run(): number {
    Atomics.store(this.ctl, LIFE, WorkerLife.RUNNING);
    let failure: number = RingFailure.NONE;
    let message = '';
    try {
      for (;;) {
        if (Atomics.load(this.ctl, STOP) !== 0) break;
        if (Atomics.load(this.ctl, REQ_SEQ) !== this.doneSeq) this.serveRequest();
        let busy = false;
        if (this.tx.filledSlots(this.txTail) > 0) {
          this.drainTx();
          busy = true;
        }
        if (this.attached && !this.held) {
          const r = this.split ? this.readSplit() : this.readDirect();
          if (r === GONE) {
            failure = RingFailure.DEVICE_GONE;
            message = `the device is gone (read: errno ${this.lastErrno})`;
            break;
          }
          if (r === FAILED) {
            failure = RingFailure.READ;
            message = `read() failed with errno ${this.lastErrno}`;
            break;
          }
          if (r === MORE) busy = true;
        }
        if (this.fatal !== undefined) {
          failure = RingFailure.HANDLER;
          message = `the packet handler threw: ${errorInfo(this.fatal).message}`;
          break;
        }
        if (!busy && this.sleep() === GONE) {
          failure = RingFailure.DEVICE_GONE;
          message = 'the device is gone (poll reported POLLERR/POLLHUP)';
          break;
        }
      }
      // Leaving on request: what the main thread already sent still goes out.
      if (failure === RingFailure.NONE && this.attached && this.tx.filledSlots(this.txTail) > 0) this.drainTx();
    } catch (e) {
      failure = RingFailure.WORKER;
      message = `queue worker crashed: ${errorInfo(e).message}`;
      this.lastErrno = 0;
    } finally {
      this.finish(failure, message);
    }
    return failure;
  }

  private finish(failure: number, message: string): void {
    if (this.suppressed > 0) this.reportHandlerError(undefined, 0, true);
    if (failure === RingFailure.NONE) {
      this.rx.close();
    } else {
      const err = failure === RingFailure.HANDLER || failure === RingFailure.WORKER ? 0 : this.lastErrno;
      this.rx.fail(failure, err);
      this.post({ type: 'failed', failure, errno: err, message });
    }
    this.tx.close();
    this.uring?.close();
    Atomics.store(this.ctl, LIFE, WorkerLife.EXITED);
    Atomics.notify(this.ctl, LIFE);
    this.bell.ring();
    Atomics.notify(this.tx.control, TAIL);
    Atomics.notify(this.ctl, DONE_SEQ);
  }

  // ---- sleeping ----------------------------------------------------------------

  /** Slots the next read may need: 1, or the segments of a split read waiting for room. */
  private slotsNeeded(): number {
    return this.pendingLen > 0 ? this.pendingSegs : 1;
  }

  /** Rings the doorbell if the consumer said it sleeps. */
  private wakeConsumer(): void {
    if (this.rx.takeWaiting(CONSUMER_WAITING)) this.bell.ring();
  }

  /** The consumer's released position (for the fill level; the consumer may be ahead of it by now). */
  private rxTailSeen(): number {
    return Atomics.load(this.rx.control, TAIL);
  }

  /** Sleeps in poll() until the fd is readable or the eventfd is written. */
  private sleep(): number {
    const tx = this.tx;
    const rx = this.rx;
    // Nothing published may wait unannounced while this worker sleeps.
    this.wakeConsumer();
    tx.setWaiting(CONSUMER_WAITING);
    if (
      tx.filledSlots(this.txTail) > 0 ||
      Atomics.load(this.ctl, STOP) !== 0 ||
      Atomics.load(this.ctl, REQ_SEQ) !== this.doneSeq
    ) {
      tx.clearWaiting(CONSUMER_WAITING);
      return IDLE;
    }
    // Held: no POLLIN (the fd stays in the set so a vanishing device still shows).
    let events = this.held ? 0 : C.POLLIN;
    let ringFull = false;
    if (this.attached) {
      const needed = this.slotsNeeded();
      if (!this.held && rx.freeSlots(this.rxHead) < needed) {
        rx.setWaiting(PRODUCER_WAITING);
        if (rx.freeSlots(this.rxHead) >= needed) {
          rx.clearWaiting(PRODUCER_WAITING);
          tx.clearWaiting(CONSUMER_WAITING);
          return IDLE;
        }
        // Stop reading: the kernel queue holds (or drops) what comes meanwhile. The fd
        // stays in the set with no events so a vanishing device still shows (POLLERR).
        events = 0;
        ringFull = true;
        this.st[this.sb + Stat.ringFull] += 1;
      }
      this.pollI32[0] = this.fd;
    } else {
      // A detached queue polls POLLERR forever: leave it out of the set.
      this.pollI32[0] = -1;
    }
    this.pollI16[2] = events;
    this.pollI16[3] = 0;
    this.pollI32[2] = this.eventFd;
    this.pollI16[6] = C.POLLIN;
    this.pollI16[7] = 0;
    const n = sys.poll(this.pollBytes, 2, -1);
    const pollErrno = n < 0 ? errno() : 0;
    tx.clearWaiting(CONSUMER_WAITING);
    if (ringFull) rx.clearWaiting(PRODUCER_WAITING);
    this.st[this.sb + Stat.wakeups] += 1;
    if (n < 0) {
      if (pollErrno === C.EINTR) return IDLE;
      throw new Error(`poll() failed with errno ${pollErrno}`);
    }
    if (this.pollI16[7] !== 0) sys.read(this.eventFd, this.counter, 8);
    if (this.attached && (this.pollI16[3] & (C.POLLERR | C.POLLHUP | C.POLLNVAL)) !== 0) return GONE;
    return IDLE;
  }

  // ---- requests ----------------------------------------------------------------

  /** Performs the pending request (attach/detach, hold/redirect/unredirect) and reports the result. */
  private serveRequest(): void {
    const seq = Atomics.load(this.ctl, REQ_SEQ);
    const op = Atomics.load(this.ctl, REQ_OP);
    const result = op === QueueOp.ATTACH || op === QueueOp.DETACH ? this.setQueue(op) : this.serveRedirect(op);
    Atomics.store(this.ctl, RESULT, result);
    Atomics.store(this.ctl, DONE_SEQ, seq);
    this.doneSeq = seq;
    Atomics.notify(this.ctl, DONE_SEQ);
  }

  /** ATTACH/DETACH: TUNSETQUEUE on the fd; returns 0 or errno. */
  private setQueue(op: number): number {
    this.ifreq.fill(0);
    const flags = op === QueueOp.ATTACH ? C.IFF_ATTACH_QUEUE : C.IFF_DETACH_QUEUE;
    new DataView(this.ifreq.buffer).setInt16(16, flags, true);
    const r = sys.ioctlPtr(this.fd, C.TUNSETQUEUE, this.ifreq);
    if (r < 0) return errno();
    this.attached = op === QueueOp.ATTACH;
    Atomics.store(this.ctl, ATTACHED, this.attached ? 1 : 0);
    return 0;
  }

  /**
   * HOLD stops reading (what was published stays for the main thread to drain);
   * REDIRECT takes the target from the message the main thread posted with the
   * request and resumes reading; UNREDIRECT forgets the target (its fds are never
   * touched again once this request is acknowledged) and resumes reading.
   * Returns 0 (the result the main thread reads).
   */
  private serveRedirect(op: number): number {
    if (op === QueueOp.HOLD) {
      this.held = true;
      return 0;
    }
    if (op === QueueOp.REDIRECT) {
      const m = this.receive() as RedirectMessage | undefined;
      if (m === undefined || m.type !== 'redirect') throw new Error('REDIRECT request without its target message');
      this.egress.setRedirect(m.target);
    } else {
      this.egress.setRedirect(null);
    }
    this.held = false;
    return 0;
  }

  // ---- RX ----------------------------------------------------------------------

  /**
   * Reads packets straight into slots (no offload, or keep mode with the header
   * in the header area), through io_uring or read(2) (`this.reads`), and delivers them.
   */
  private readDirect(): number {
    const free = this.rx.freeSlots(this.rxHead);
    if (free === 0) return IDLE;
    const limit = free < this.batchSize ? free : this.batchSize;
    const reads = this.reads!;
    const start = this.rxHead;
    const end = reads.fill(start, limit);
    if (reads.count > 0) this.deliver(start, reads.count, reads.bytes, end === 0);
    if (end >= 0) return end === QUEUE_EMPTY ? IDLE : MORE;
    this.lastErrno = -end;
    return isGoneErrno(-end) ? GONE : FAILED;
  }

  /** Split mode: reads into scratch, splits superpackets (and checksums) into slots. */
  private readSplit(): number {
    const rx = this.rx;
    const mask = rx.mask;
    const start = this.rxHead;
    const scratch = this.scratch;
    const sizes = this.sizes;
    let produced = 0;
    let bytes = 0;
    let reads = 0;
    let outcome = MORE;
    while (produced < this.batchSize) {
      if (this.pendingLen === 0) {
        const r = sys.read(this.fd, scratch, SCRATCH_BYTES);
        if (r < 0) {
          const e = errno();
          if (e === C.EAGAIN) {
            outcome = IDLE;
            break;
          }
          if (e === C.EINTR) continue;
          this.lastErrno = e;
          outcome = isGoneErrno(e) ? GONE : FAILED;
          break;
        }
        reads++;
        const segs = r > VIRTIO_NET_HDR_LEN && r < SCRATCH_BYTES ? estimateSegments(scratch, r) : 0;
        if (segs <= 0 || segs > rx.slots) {
          this.st[this.sb + Stat.malformed] += 1;
          continue;
        }
        this.pendingLen = r;
        this.pendingSegs = segs;
      }
      const at = start + produced;
      if (rx.freeSlots(at) < this.pendingSegs) {
        outcome = IDLE; // ring full: the read stays in scratch; sleep() waits for room
        break;
      }
      const bufs = this.windows.get(this.pendingSegs);
      for (let i = 0; i < bufs.length; i++) bufs[i] = rx.frames[(at + i) & mask]!;
      let count: number;
      try {
        count = handleVirtioRead(this.scratchView(this.pendingLen), bufs, sizes, VIRTIO_NET_HDR_LEN);
      } catch {
        this.st[this.sb + Stat.malformed] += 1;
        this.pendingLen = 0;
        continue;
      }
      // Segments of a superpacket carry checksums this split just computed: GRO
      // on the way out may trust them. A GSO_NONE read is passed on as the
      // kernel gave it (its checksum completed if it was partial): not flagged.
      const flag = scratch[1] !== 0 ? SLOT_CSUM_VALID : 0;
      for (let i = 0; i < count; i++) {
        const s = (at + i) & mask;
        rx.lengths[s] = sizes[i]!;
        rx.meta[s] = flag;
        bytes += sizes[i]!;
      }
      if (scratch[1] !== 0) {
        this.st[this.sb + Stat.superpackets] += 1;
        this.st[this.sb + Stat.segments] += count;
      }
      produced += count;
      this.pendingLen = 0;
    }
    this.st[this.sb + Stat.rxReads] += reads;
    if (produced > 0) this.deliver(start, produced, bytes, outcome === MORE);
    return outcome;
  }

  /** `scratch[0, len)`, cached per length for packets that fit a slot (allocation-free in steady state). */
  private scratchView(len: number): Uint8Array {
    if (len > this.rx.packetCapacity + VIRTIO_NET_HDR_LEN) return this.scratch.subarray(0, len);
    let v = this.scratchViews[len];
    if (v === undefined) {
      v = this.scratch.subarray(0, len);
      this.scratchViews[len] = v;
    }
    return v;
  }

  /**
   * Runs the handler over slots [start, start + n), then publishes what goes to
   * the main thread. A sleeping consumer is woken when the read stopped for want
   * of packets, or once half the ring is filled; while a burst goes on (`more`)
   * it is left asleep, so it wakes once per burst rather than once per batch
   * (each wake-up costs the consumer's thread, which may share a core with this
   * one). `sleep()` wakes it before this worker sleeps, whatever happened.
   */
  private deliver(start: number, n: number, bytes: number, more: boolean): void {
    const st = this.st;
    const sb = this.sb;
    st[sb + Stat.rxPackets] += n;
    st[sb + Stat.rxBytes] += bytes;
    st[sb + Stat.rxBatches] += 1;
    let publish = n;
    if (this.handler !== null) {
      publish = this.runHandler(start, n);
    } else if (this.egress.redirecting) {
      const slots = this.redirectSlots;
      const mask = this.rx.mask;
      for (let i = 0; i < n; i++) slots[i] = (start + i) & mask;
      this.egress.sendRedirect(this.rx, slots, n);
      st[sb + Stat.piped] += n;
      publish = 0;
    } else {
      st[sb + Stat.passed] += n;
    }
    if (publish > 0) {
      this.rxHead = (start + publish) | 0;
      this.rx.publish(this.rxHead);
      if (!more || this.rx.filledSlots(this.rxTailSeen()) * 2 >= this.rx.slots) this.wakeConsumer();
    }
  }

  /**
   * Calls the handler and acts on the verdicts: PASS slots keep their length,
   * everything else is written out or dropped and marked SKIP. Returns how many
   * slots to publish (up to the last PASS; the rest are reused at once).
   */
  private runHandler(start: number, n: number): number {
    const rx = this.rx;
    const mask = rx.mask;
    const st = this.st;
    const sb = this.sb;
    const bufs = this.windows.get(n);
    const lens = this.lenWindows.get(n);
    const verdicts = this.verdictWindows.get(n);
    for (let i = 0; i < n; i++) {
      const s = (start + i) & mask;
      bufs[i] = rx.frames[s]!;
      lens[i] = rx.lengths[s]!;
    }
    verdicts.fill(Verdict.PASS);
    const b = this.batch;
    b.count = n;
    b.bufs = bufs;
    b.lengths = lens;
    b.verdicts = verdicts;
    // DROP verdicts of a batch whose handler threw count as handlerErrorDrops,
    // not handlerDrops: every packet is counted under exactly one cause.
    let threwAndDropped = false;
    try {
      this.handler!(b, verdicts);
    } catch (e) {
      st[sb + Stat.handlerErrors] += 1;
      this.reportHandlerError(e, n, false);
      const policy = this.data.handlerErrors;
      if (policy === 'pass') {
        verdicts.fill(Verdict.PASS);
      } else {
        verdicts.fill(Verdict.DROP);
        threwAndDropped = true;
        if (policy === 'fatal') this.fatal = e;
      }
      for (let i = 0; i < n; i++) lens[i] = rx.lengths[(start + i) & mask]!;
    }
    const devices = this.groups.length;
    const counts = this.groupCounts;
    counts.fill(0);
    const capacity = rx.packetCapacity;
    let lastPass = -1;
    let passed = 0;
    const redirecting = this.egress.redirecting;
    let piped = 0;
    let dropped = 0;
    let replied = 0;
    let forwarded = 0;
    for (let i = 0; i < n; i++) {
      const s = (start + i) & mask;
      const v = verdicts[i]!;
      const len = lens[i]!;
      if (len <= 0 || len > capacity) {
        rx.lengths[s] = SKIP;
        st[sb + Stat.malformed] += 1;
        continue;
      }
      if (v === Verdict.PASS) {
        rx.lengths[s] = len;
        if (redirecting) {
          this.redirectSlots[piped++] = s;
          continue;
        }
        lastPass = i;
        passed++;
        continue;
      }
      let target = -1;
      if (v === Verdict.TX) {
        target = this.data.device;
        replied++;
      } else if (v >= Verdict.FORWARD && v - Verdict.FORWARD < devices) {
        target = v - Verdict.FORWARD;
        forwarded++;
      }
      if (target < 0) {
        rx.lengths[s] = SKIP;
        dropped++;
        continue;
      }
      rx.lengths[s] = len;
      this.groups[target]![counts[target]++] = s;
    }
    for (let d = 0; d < devices; d++) {
      const k = counts[d]!;
      if (k === 0) continue;
      const group = this.groups[d]!;
      this.egress.send(d, rx, group, k);
      for (let i = 0; i < k; i++) rx.lengths[group[i]!] = SKIP;
    }
    if (piped > 0) {
      this.egress.sendRedirect(rx, this.redirectSlots, piped);
      st[sb + Stat.piped] += piped;
    }
    st[sb + Stat.passed] += passed;
    st[sb + (threwAndDropped ? Stat.handlerErrorDrops : Stat.handlerDrops)] += dropped;
    st[sb + Stat.replied] += replied;
    st[sb + Stat.forwarded] += forwarded;
    return lastPass + 1;
  }

  private reportHandlerError(e: unknown, packets: number, flush: boolean): void {
    const now = performance.now();
    if (!flush && now - this.lastReport < HANDLER_REPORT_MS) {
      this.suppressed++;
      return;
    }
    this.lastReport = now;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    const error = e === undefined ? { name: 'Error', message: 'further handler errors' } : errorInfo(e);
    this.post({ type: 'handler-error', error, packets, suppressed });
  }

  // ---- TX ------------------------------------------------------------------------

  /** Writes out everything the main thread published in the TX ring. */
  private drainTx(): void {
    const tx = this.tx;
    const mask = tx.mask;
    const slots = this.txSlots;
    let avail = tx.filledSlots(this.txTail);
    while (avail > 0) {
      const k = avail < slots.length ? avail : slots.length;
      for (let i = 0; i < k; i++) slots[i] = (this.txTail + i) & mask;
      this.egress.sendOwn(this.data.device, this.fd, tx, slots, k);
      this.st[this.sb + Stat.txRingPackets] += k;
      this.txTail = (this.txTail + k) | 0;
      tx.release(this.txTail);
      if (tx.takeWaiting(PRODUCER_WAITING)) Atomics.notify(tx.control, TAIL);
      avail -= k;
    }
  }
}
