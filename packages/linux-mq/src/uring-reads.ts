/**
 * `UringReads`: a queue worker's direct reads (readDirect: no offload, or keep
 * mode) through io_uring: ONE io_uring_enter submits a window of IORING_OP_READ
 * SQEs on the queue fd, each into the next free RX slot, and returns with all of
 * them completed. One packet per read(2) is what a TUN fd gives, so the syscall
 * path crosses the koffi boundary once per packet (~200 ns on top of the kernel's
 * read); this path crosses it once per batch.
 *
 * ```
 *   RX slots   start                                start+k-1
 *              │ s0 │ s1 │ s2 │ s3 │ s4 │ ... │ sk-1 │     SQE i: READ fd → slot start+i,
 *                 ▲    ▲    ▲    ▲                          RWF_NOWAIT, user_data i
 *   CQEs       [ 64 ][ 64 ][-EAGAIN][ 64 ]...               res by user_data
 *   published  │ p0 │ p1 │ p3 │  ← a packet after a hole is moved down, so the
 *                                  batch stays contiguous (holes: EAGAIN, malformed)
 * ```
 *
 * Reads carry RWF_NOWAIT: on this kernel (6.18) a read of an empty TUN queue
 * without it is not failed with EAGAIN despite O_NONBLOCK, but parked on an
 * internal poll until a packet comes (TUN supports nowait I/O, so io_uring
 * ignores O_NONBLOCK and retries). With it, each read of an empty queue
 * completes with -EAGAIN at once. Linking the reads (IOSQE_IO_LINK) does not
 * give a cheap tail: a packet read is a short read (64 bytes into a slot of
 * 1500+), which breaks the link, so a chain yields one packet and -ECANCELED for
 * the rest. Every read of an empty queue still costs the kernel a few hundred
 * ns, so the window adapts: it doubles while batches come back full and shrinks
 * to twice the packets found when a batch ends on EAGAIN.
 *
 * An io_uring_enter has a fixed cost (~1 µs here) and an io_uring read of an
 * empty queue costs ~450 ns, more than a whole read(2) that fails with EAGAIN.
 * So while the window is small (sparse traffic: a few packets per wake-up),
 * reads are plain read(2) calls, exactly as on the syscall path; a window that
 * keeps coming back full grows past SYSCALL_WINDOW and the burst continues
 * through the ring. The ring itself is set up at the first burst and closed
 * after IDLE_RING_FILLS small windows in a row: with a ring open, each wake-up
 * of the worker cost ~2 µs more (measured with 8-packet bursts every ms: worker
 * CPU 10.9 vs 9.0 µs per packet with the ring open and unused, 10.9 vs 10.5 with
 * it closed again).
 *
 * Stats are those of the syscall path: `rxReads` counts completed reads (a
 * packet, malformed or not), `malformed` the reads of r <= header or r >= slot
 * size. Nothing is allocated per packet.
 */
import { IoUring, TunError, addressOf, isTunError, constants as C, type IoUringOptions } from '@tunpipe/core';
import { VIRTIO_NET_HDR_LEN } from '@tunpipe/offload';
import { SLOT_VNET_HDR, type SlotRing } from './slot-ring.js';
import { Stat } from './queue-stats.js';
import { SyscallReads, QUEUE_EMPTY, type SlotFiller } from './syscall-reads.js';

/** How a queue worker reads its fd: 'auto' tries io_uring and falls back to read(2); the others force one. */
export type ReadsOption = 'auto' | 'io_uring' | 'syscall';

/** The read path a queue worker ended up with. */
export type ReadPath = 'io_uring' | 'syscall';

/**
 * Smallest window of reads submitted at once: after a batch that found one
 * packet, the next submits two (one likely EAGAIN, ~400 ns of kernel time).
 */
const MIN_WINDOW = 2;

/**
 * Windows up to this size are read with read(2) in 'auto' mode: too few reads
 * to pay for a ring round trip, and a burst that ends inside a doubled window
 * leaves up to half of it as EAGAIN reads. Measured (worker CPU per packet,
 * 'auto' vs 'syscall', a burst every ms, loaded machine): with 32 here, bursts
 * of 8 and of 128 cost the same, bursts of 32 ~20 % more (~25 % with 8 here);
 * a drain of 256k queued packets ~14 % less.
 */
export const SYSCALL_WINDOW = 32;

/** Small windows in a row after which 'auto' closes its ring (set up again at the next burst). */
export const IDLE_RING_FILLS = 64;


/** An io_uring refused by the kernel or the process (ERR_TUN_IO_URING): 'auto' then reads with read(2). */
function isRefusal(e: unknown): boolean {
  return isTunError(e) && e.code === 'ERR_TUN_IO_URING';
}

/**
 * Sets a ring up with `opener` and checks that it completes an RWF_NOWAIT read
 * of an empty file at once (the queue workers rely on it; not so before Linux
 * 5.6, which lacks IORING_OP_READ). Throws ERR_TUN_IO_URING (the ring closed)
 * when it does not, or the opener's refusal.
 */
export function openNowaitRing(opener: () => IoUring): IoUring {
  const ring = opener();
  let nowait = false;
  try {
    nowait = ring.nowaitReadsWork();
  } finally {
    if (!nowait) ring.close();
  }
  if (!nowait) {
    throw new TunError('ERR_TUN_IO_URING', 'this kernel does not complete RWF_NOWAIT io_uring reads of an empty file at once (IORING_OP_READ needs Linux 5.6)');
  }
  return ring;
}

/** Batched RX reads through an io_uring, into a SlotRing's slots. */
export class UringReads implements SlotFiller {
  /** Packets placed in slots by the last `fill()`. */
  count = 0;
  /** Their bytes (without virtio headers). */
  bytes = 0;

  /** The ring while bursts use it (null: not set up, or closed while traffic is sparse). */
  private ring: IoUring | null = null;
  private readonly openRing: () => IoUring;
  private smallFills = 0;
  private readonly rx: SlotRing;
  private readonly fd: number;
  private readonly hdr: number;
  private readonly capacity: number;
  private readonly flag: number;
  private readonly st: Float64Array;
  private readonly sb: number;
  /** Per slot: address of the byte the kernel writes first (header area in vnet mode, else the packet). */
  private readonly addrs: Float64Array;
  /** Per slot: offset of that byte in `rx.bytes`. */
  private readonly offsets: Int32Array;
  /** Small windows: read(2) per packet into the same slots. */
  private readonly direct: SyscallReads;
  /** Per window position: the read's result (filled from CQEs by user_data). */
  private readonly results: Int32Array;
  private readonly most: number;
  private syscallWindow: number;
  private window: number;

  /**
   * Reads for the queue `fd` into `rx`; `vnet`: each read starts with a
   * virtio_net_hdr kept in the slot's header area. `st`/`sb`: the queue's stats block.
   * `openRing` sets up a ring of at least `entries` SQEs when a burst needs one.
   * Windows up to `syscallWindow` reads use read(2) (0: always the ring).
   */
  constructor(
    openRing: () => IoUring, entries: number, rx: SlotRing, fd: number, vnet: boolean, st: Float64Array, sb: number,
    syscallWindow = SYSCALL_WINDOW,
  ) {
    this.openRing = openRing;
    this.rx = rx;
    this.fd = fd;
    this.hdr = vnet ? VIRTIO_NET_HDR_LEN : 0;
    this.capacity = this.hdr + rx.packetCapacity;
    this.flag = vnet ? SLOT_VNET_HDR : 0;
    this.st = st;
    this.sb = sb;
    const base = addressOf(rx.bytes);
    const views = vnet ? rx.frames : rx.packets;
    this.direct = new SyscallReads(rx, fd, vnet, st, sb);
    this.addrs = new Float64Array(rx.slots);
    this.offsets = new Int32Array(rx.slots);
    for (let s = 0; s < rx.slots; s++) {
      const off = views[s]!.byteOffset;
      this.offsets[s] = off;
      this.addrs[s] = base + off;
    }
    this.most = Math.min(entries, rx.slots);
    this.results = new Int32Array(this.most);
    this.syscallWindow = syscallWindow;
    this.window = MIN_WINDOW;
  }

  /**
   * Opens the ring for a queue worker: 'syscall' gives null; 'auto' gives null
   * when io_uring cannot be set up (ENOSYS, EPERM from io_uring_disabled or
   * seccomp, ENOMEM), or when batches are too small for the ring ever to be
   * used ('auto' tries one at once, so the answer is known at start, and sets
   * up its real ring at the first burst); 'io_uring' throws that error
   * (ERR_TUN_IO_URING) and reads every window through the ring. `openRing`
   * sets a ring up (tests stand in a refusing one).
   */
  static open(
    reads: ReadsOption, rx: SlotRing, fd: number, vnet: boolean, batchSize: number, st: Float64Array, sb: number,
    openRing: (options: IoUringOptions) => IoUring = IoUring.open,
  ): UringReads | null {
    if (reads === 'syscall') return null;
    const entries = Math.min(Math.max(batchSize, MIN_WINDOW), rx.slots);
    if (reads === 'auto' && entries <= SYSCALL_WINDOW) return null;
    const opener = (): IoUring => openRing({ entries });
    if (reads === 'io_uring') {
      const forced = new UringReads(opener, entries, rx, fd, vnet, st, sb, 0);
      forced.ring = openNowaitRing(opener);
      return forced;
    }
    try {
      openNowaitRing(opener).close();
    } catch (e) {
      if (isRefusal(e)) return null;
      throw e;
    }
    return new UringReads(opener, entries, rx, fd, vnet, st, sb, SYSCALL_WINDOW);
  }

  /** Whether a ring is set up now (it comes and goes with bursts in 'auto' mode). */
  get ringOpen(): boolean {
    return this.ring !== null;
  }

  /**
   * Reads up to `limit` packets into slots `start`, `start + 1`, ... with one
   * io_uring_enter (or, for a window of at most `syscallWindow`, read(2) calls
   * until the queue is empty). Sets `count` and `bytes` (the packets sit in consecutive
   * slots from `start`, lengths and meta written). Returns 0 when the queue may
   * hold more, QUEUE_EMPTY when a read found it empty, or `-errno` of the first
   * failed read (packets read before and after it are still in `count`).
   */
  fill(start: number, limit: number): number {
    if (this.window <= this.syscallWindow) {
      if (this.ring !== null && ++this.smallFills >= IDLE_RING_FILLS) this.closeRing();
      return this.fillBySyscall(start, limit);
    }
    this.smallFills = 0;
    if (this.ring === null) {
      try {
        this.ring = this.openRing();
      } catch (e) {
        if (!isRefusal(e)) throw e;
        this.syscallWindow = Infinity; // refused after all: read(2) from now on
        return this.fillBySyscall(start, limit);
      }
    }
    return this.fillByRing(start, limit, this.ring);
  }

  /** `fill` with read(2) calls, up to the window: the tail costs one EAGAIN read. */
  private fillBySyscall(start: number, limit: number): number {
    const k = limit < this.window ? limit : this.window;
    const direct = this.direct;
    const end = direct.fill(start, k);
    this.count = direct.count;
    this.bytes = direct.bytes;
    this.adapt(end === QUEUE_EMPTY, direct.count, k);
    return end;
  }

  /** Grows the window while the queue fills it, shrinks it to twice what an emptied queue held. */
  private adapt(emptied: boolean, n: number, k: number): void {
    if (emptied) this.window = Math.max(MIN_WINDOW, 2 * n);
    else if (k === this.window) this.window = Math.min(this.most, 2 * this.window);
  }

  /** `fill` through the ring: one io_uring_enter for the whole window. */
  private fillByRing(start: number, limit: number, ring: IoUring): number {
    const rx = this.rx;
    const mask = rx.mask;
    const st = this.st;
    const sb = this.sb;
    let k = limit < this.window ? limit : this.window;
    if (k > this.most) k = this.most;
    for (let i = 0; i < k; i++) {
      ring.prepareRead(this.fd, this.addrs[(start + i) & mask]!, this.capacity, i, 0, C.RWF_NOWAIT);
    }
    const results = this.results;
    results.fill(-C.EAGAIN, 0, k);
    let submitted = ring.submit(k);
    this.count = 0;
    this.bytes = 0;
    if (submitted < 0) return submitted === -C.EINTR ? 0 : submitted;
    // RWF_NOWAIT reads complete inside the enter; wait anyway for any that did not.
    while (ring.ready() < submitted) {
      const w = ring.wait(submitted - ring.ready());
      if (w < 0 && w !== -C.EINTR) return w;
    }
    const ready = ring.ready();
    for (let i = 0; i < ready; i++) {
      const at = ring.userData(i);
      if (at < k) results[at] = ring.result(i);
    }
    ring.consume(ready);
    const hdr = this.hdr;
    const capacity = this.capacity;
    const lengths = rx.lengths;
    const meta = rx.meta;
    const bytesView = rx.bytes;
    const offsets = this.offsets;
    let n = 0;
    let bytes = 0;
    let reads = 0;
    let malformed = 0;
    let empty = false;
    let failure = 0;
    if (submitted < k) empty = true; // the kernel took fewer: treat the rest as not read
    else submitted = k;
    for (let i = 0; i < submitted; i++) {
      const r = results[i]!;
      if (r < 0) {
        if (r === -C.EAGAIN) empty = true;
        else if (r !== -C.EINTR && failure === 0) failure = r;
        continue;
      }
      reads++;
      if (r <= hdr || r >= capacity) {
        // Empty, or filled the whole slot: possibly cut short. Never pass on a partial packet.
        malformed++;
        continue;
      }
      const from = (start + i) & mask;
      const to = (start + n) & mask;
      if (to !== from) bytesView.copyWithin(offsets[to]!, offsets[from]!, offsets[from]! + r);
      const len = r - hdr;
      lengths[to] = len;
      meta[to] = this.flag;
      bytes += len;
      n++;
    }
    st[sb + Stat.rxReads] += reads;
    if (malformed > 0) st[sb + Stat.malformed] += malformed;
    this.count = n;
    this.bytes = bytes;
    this.adapt(empty, n, k);
    if (failure !== 0) return failure;
    return empty ? QUEUE_EMPTY : 0;
  }

  /** Closes the ring, if one is set up (unmaps it, closes its fd). */
  close(): void {
    this.closeRing();
  }

  private closeRing(): void {
    this.ring?.close();
    this.ring = null;
    this.smallFills = 0;
  }
}
