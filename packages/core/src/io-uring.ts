/**
 * `IoUring`: a minimal io_uring (Linux 5.4+) for batches of reads issued by one
 * thread: many SQEs written into shared memory, submitted and completed by ONE
 * `io_uring_enter(2)`, so a batch of N reads costs one call through koffi
 * instead of N. Used by @tunpipe/linux-mq's queue workers to read packets
 * straight into ring slots.
 *
 * The kernel shares three regions with us (IORING_FEAT_SINGLE_MMAP: the SQ and
 * CQ rings are one mapping, at IORING_OFF_SQ_RING; the SQE array is another, at
 * IORING_OFF_SQES). Offsets inside the ring mapping come from
 * struct io_sqring_offsets / io_cqring_offsets, <linux/io_uring.h>:
 *
 * ```
 *  ring mapping (one mmap, byte offsets from io_uring_params.sq_off / cq_off)
 *  ┌──────────────────────────────────────────────────────────────────────────┐
 *  │ sq.head u32 (kernel advances)   sq.tail u32 (we advance, release)        │
 *  │ sq.ring_mask  sq.ring_entries  sq.flags  sq.dropped                      │
 *  │ cq.head u32 (we advance)        cq.tail u32 (kernel advances, acquire)   │
 *  │ cq.ring_mask  cq.ring_entries  cq.overflow  cq.flags                     │
 *  │ cqes[cq_entries]  struct io_uring_cqe: user_data u64 | res s32 | flags   │  16 B each
 *  │ array[sq_entries] u32: SQ slot -> SQE index (identity here, set once)    │
 *  └──────────────────────────────────────────────────────────────────────────┘
 *  SQE mapping: sqes[sq_entries], struct io_uring_sqe, 64 B each:
 *  ┌────────┬───────┬────────┬──────┬──────────┬───────────┬──────┬──────────┬────────────┬─────┐
 *  │opcode 0│flags 1│ioprio 2│ fd 4 │ off 8 u64│ addr 16 u64│len 24│rw_flags 28│user_data 32│ ... │
 *  └────────┴───────┴────────┴──────┴──────────┴───────────┴──────┴──────────┴────────────┴─────┘
 * ```
 *
 * Producer/consumer protocol: we fill SQEs, then store sq.tail with release
 * semantics (`Atomics.store`) before io_uring_enter; we load cq.tail with acquire
 * semantics before reading CQEs and store cq.head once we are done with them.
 * Only the thread that opened the ring may use it (IORING_SETUP_SINGLE_ISSUER);
 * there is no SQ polling thread, so SQEs are read by the kernel only inside
 * io_uring_enter.
 *
 * Nothing on the prepare/submit/complete path allocates: addresses and
 * user_data are written as two 32-bit halves, results are read from the CQE
 * memory directly.
 */
import { TunError } from '@tunpipe/offload';
import { sys, errno, osError, isMapFailed, viewOf, addressOf } from './libc.js';
import * as C from './constants.js';

/** sizeof(struct io_uring_params), <linux/io_uring.h>: 10 u32 + io_sqring_offsets (40) + io_cqring_offsets (40). */
const PARAMS_BYTES = 120;
/** sizeof(struct io_uring_sqe) without IORING_SETUP_SQE128. */
const SQE_BYTES = 64;
/** sizeof(struct io_uring_cqe) without IORING_SETUP_CQE32. */
const CQE_BYTES = 16;

// u32 indexes into struct io_uring_params (byte offset / 4), <linux/io_uring.h>
const P_SQ_ENTRIES = 0;
const P_CQ_ENTRIES = 1;
const P_FLAGS = 2;
const P_FEATURES = 5;
const P_SQ_OFF = 10; // struct io_sqring_offsets: head, tail, ring_mask, ring_entries, flags, dropped, array
const P_CQ_OFF = 20; // struct io_cqring_offsets: head, tail, ring_mask, ring_entries, overflow, cqes, flags
const OFF_HEAD = 0;
const OFF_TAIL = 1;
const OFF_RING_MASK = 2;
const OFF_SQ_ARRAY = 6;
const OFF_CQES = 5;

// u32 indexes inside one SQE (byte offset / 4)
const SQE_OPCODE_FLAGS = 0; // opcode u8 | flags u8 << 8 | ioprio u16 << 16
const SQE_FD = 1;
const SQE_OFF_LO = 2;
const SQE_ADDR_LO = 4;
const SQE_LEN = 6;
const SQE_RW_FLAGS = 7;
const SQE_USER_DATA_LO = 8;
const SQE_USER_DATA_HI = 9;

/** Setup flags tried first: SUBMIT_ALL (a failing SQE does not stop the rest), COOP_TASKRUN (no IPI for task work), SINGLE_ISSUER, CLAMP. */
const PREFERRED_FLAGS = C.IORING_SETUP_SUBMIT_ALL | C.IORING_SETUP_COOP_TASKRUN | C.IORING_SETUP_SINGLE_ISSUER | C.IORING_SETUP_CLAMP;

/** Zeroes an SQE's fields after user_data (buf_index, personality, splice_fd_in, addr3, pad): bytes 40..63. */
function clearTail(q: Uint32Array, at: number): void {
  for (let i = 10; i < SQE_BYTES / 4; i++) q[at + i] = 0;
}

/** Options of `IoUring.open`. */
export interface IoUringOptions {
  /** Submission queue entries (rounded up to a power of two by the kernel; the CQ gets twice as many). Default 256. */
  entries?: number;
}

/** One io_uring instance owned by the calling thread; see the file comment for the memory layout. */
export class IoUring {
  /** The ring fd (close-on-exec: the kernel opens io_uring fds O_CLOEXEC). */
  readonly fd: number;
  /** SQ entries the kernel granted: the most SQEs one `submit` can carry. */
  readonly sqEntries: number;
  /** CQ entries the kernel granted. */
  readonly cqEntries: number;
  /** io_uring_params.features (IORING_FEAT_*). */
  readonly features: number;

  private readonly ringPtr: unknown;
  private readonly ringBytes: number;
  private readonly sqePtr: unknown;
  private readonly sqeBytes: number;
  private readonly ring: Uint32Array;
  private readonly ringI32: Int32Array;
  private readonly sqes: Uint32Array;
  private readonly sqTailAt: number;
  private readonly sqHeadAt: number;
  private readonly sqMask: number;
  private readonly cqHeadAt: number;
  private readonly cqTailAt: number;
  private readonly cqMask: number;
  private readonly cqesAt: number;
  private sqTail: number;
  private queuedCount = 0;
  private cqHead: number;
  private closed = false;

  /** Sets up a ring (io_uring_setup + two mmaps); throws ERR_TUN_IO_URING with errno/syscall on failure. */
  static open(options: IoUringOptions = {}): IoUring {
    const entries = options.entries ?? 256;
    if (!Number.isInteger(entries) || entries < 1 || entries > 32768) {
      throw new TunError('ERR_TUN_INVALID_ARGUMENT', `io_uring entries must be an integer in 1..32768, got ${String(entries)}`);
    }
    const params = new Uint32Array(PARAMS_BYTES / 4);
    params[P_FLAGS] = PREFERRED_FLAGS;
    let fd = sys.ioUringSetup(C.SYS_io_uring_setup, entries, params);
    if (fd < 0 && errno() === C.EINVAL) {
      // A kernel older than the preferred flags (SINGLE_ISSUER is 6.0): plain setup.
      params.fill(0);
      params[P_FLAGS] = C.IORING_SETUP_CLAMP;
      fd = sys.ioUringSetup(C.SYS_io_uring_setup, entries, params);
    }
    if (fd < 0) throw osError('ERR_TUN_IO_URING', 'io_uring_setup');
    try {
      return new IoUring(fd, params);
    } catch (e) {
      sys.close(fd);
      throw e;
    }
  }

  private constructor(fd: number, params: Uint32Array) {
    this.fd = fd;
    this.sqEntries = params[P_SQ_ENTRIES]!;
    this.cqEntries = params[P_CQ_ENTRIES]!;
    this.features = params[P_FEATURES]!;
    if ((this.features & C.IORING_FEAT_SINGLE_MMAP) === 0) {
      throw new TunError('ERR_TUN_IO_URING', 'io_uring without IORING_FEAT_SINGLE_MMAP (Linux < 5.4) is not supported');
    }
    const sqOff = P_SQ_OFF;
    const cqOff = P_CQ_OFF;
    const sqBytes = params[sqOff + OFF_SQ_ARRAY]! + this.sqEntries * 4;
    const cqBytes = params[cqOff + OFF_CQES]! + this.cqEntries * CQE_BYTES;
    this.ringBytes = Math.max(sqBytes, cqBytes);
    this.sqeBytes = this.sqEntries * SQE_BYTES;
    const prot = C.PROT_READ | C.PROT_WRITE;
    const flags = C.MAP_SHARED | C.MAP_POPULATE;
    const ringPtr = sys.mmap(null, this.ringBytes, prot, flags, fd, C.IORING_OFF_SQ_RING);
    if (isMapFailed(ringPtr)) throw osError('ERR_TUN_IO_URING', 'mmap', 'io_uring SQ/CQ rings');
    const sqePtr = sys.mmap(null, this.sqeBytes, prot, flags, fd, C.IORING_OFF_SQES);
    if (isMapFailed(sqePtr)) {
      const err = osError('ERR_TUN_IO_URING', 'mmap', 'io_uring SQE array');
      sys.munmap(ringPtr, this.ringBytes);
      throw err;
    }
    this.ringPtr = ringPtr;
    this.sqePtr = sqePtr;
    const ringBuffer = viewOf(ringPtr, this.ringBytes);
    this.ring = new Uint32Array(ringBuffer);
    this.ringI32 = new Int32Array(ringBuffer);
    this.sqes = new Uint32Array(viewOf(sqePtr, this.sqeBytes));
    this.sqHeadAt = params[sqOff + OFF_HEAD]! / 4;
    this.sqTailAt = params[sqOff + OFF_TAIL]! / 4;
    this.sqMask = this.ring[params[sqOff + OFF_RING_MASK]! / 4]!;
    this.cqHeadAt = params[cqOff + OFF_HEAD]! / 4;
    this.cqTailAt = params[cqOff + OFF_TAIL]! / 4;
    this.cqMask = this.ring[params[cqOff + OFF_RING_MASK]! / 4]!;
    this.cqesAt = params[cqOff + OFF_CQES]! / 4;
    // The SQ indirection array maps SQ position i to SQE i, once and for all.
    const arrayAt = params[sqOff + OFF_SQ_ARRAY]! / 4;
    for (let i = 0; i < this.sqEntries; i++) this.ring[arrayAt + i] = i;
    this.sqTail = Atomics.load(this.ring, this.sqTailAt);
    this.cqHead = Atomics.load(this.ring, this.cqHeadAt);
  }

  /** SQEs prepared and not yet submitted. */
  get queued(): number {
    return this.queuedCount;
  }

  /** Room for more SQEs before the next `submit`. */
  get room(): number {
    return this.sqEntries - this.queuedCount;
  }

  /**
   * Prepares an IORING_OP_READ of `len` bytes from `fd` (at the current file
   * position) into memory at `addr` (see `addressOf`); `userData` (0..2^32-1)
   * comes back in its CQE. `sqeFlags`: IOSQE_*; `rwFlags`: RWF_*.
   *
   * O_NONBLOCK on `fd` is NOT enough to make a read of an empty TUN queue (or
   * pipe, socket...) complete with -EAGAIN: such files support nowait I/O, so
   * io_uring arms a poll and the read stays in flight until data arrives (seen on
   * Linux 6.18). Pass `rwFlags` RWF_NOWAIT for a read that completes with -EAGAIN
   * at once. Returns false when the SQ is full.
   */
  prepareRead(fd: number, addr: number, len: number, userData: number, sqeFlags = 0, rwFlags = 0): boolean {
    // off = -1 (all ones): the file position (pipes, TUN: no position at all).
    return this.prepare(C.IORING_OP_READ, sqeFlags, fd, 0xffffffff, addr, len, rwFlags, userData);
  }

  /** Prepares an IORING_OP_NOP (completes with res 0): measures the cost of the ring itself. Returns false when the SQ is full. */
  prepareNop(userData: number, sqeFlags = 0): boolean {
    return this.prepare(C.IORING_OP_NOP, sqeFlags, -1, 0, 0, 0, 0, userData);
  }

  /**
   * Writes every field of the next free SQE (`off`: the 32-bit value of both
   * halves of the 64-bit offset, 0 or 0xffffffff for -1). False when the SQ is full.
   */
  private prepare(opcode: number, sqeFlags: number, fd: number, off: number, addr: number, len: number, rwFlags: number, userData: number): boolean {
    const at = this.nextSqe();
    if (at < 0) return false;
    const q = this.sqes;
    q[at + SQE_OPCODE_FLAGS] = opcode | (sqeFlags << 8);
    q[at + SQE_FD] = fd;
    q[at + SQE_OFF_LO] = off;
    q[at + SQE_OFF_LO + 1] = off;
    q[at + SQE_ADDR_LO] = addr >>> 0;
    q[at + SQE_ADDR_LO + 1] = (addr - (addr >>> 0)) / 0x100000000;
    q[at + SQE_LEN] = len;
    q[at + SQE_RW_FLAGS] = rwFlags;
    q[at + SQE_USER_DATA_LO] = userData;
    q[at + SQE_USER_DATA_HI] = 0;
    clearTail(q, at);
    return true;
  }

  /** u32 index of the next free SQE (the caller writes every field), or -1 when the SQ is full. */
  private nextSqe(): number {
    if (this.queuedCount >= this.sqEntries) return -1;
    const at = ((this.sqTail & this.sqMask) * SQE_BYTES) / 4;
    this.sqTail = (this.sqTail + 1) >>> 0;
    this.queuedCount++;
    return at;
  }

  /**
   * Publishes the prepared SQEs and calls io_uring_enter once, waiting until at
   * least `waitFor` completions are ready (0: do not wait). Returns the number
   * of SQEs the kernel consumed, or `-errno` (EINTR: a signal interrupted the
   * wait; EAGAIN/EBUSY: the kernel is short of resources or the CQ overflowed).
   * SQEs the kernel did not consume are withdrawn, so a later submit never
   * issues a stale one.
   */
  submit(waitFor = 0): number {
    if (this.closed) throw new TunError('ERR_TUN_CLOSED', 'the io_uring is closed');
    const n = this.queuedCount;
    Atomics.store(this.ring, this.sqTailAt, this.sqTail);
    const flags = waitFor > 0 ? C.IORING_ENTER_GETEVENTS : 0;
    const r = sys.ioUringEnter(C.SYS_io_uring_enter, this.fd, n, waitFor, flags, null, 0);
    const e = r < 0 ? errno() : 0;
    if (r === n) {
      this.queuedCount = 0;
      return r;
    }
    // Fewer consumed (or none, on error): take back what the kernel left, so its
    // head and our tail agree again. Without SQPOLL the kernel reads SQEs only
    // inside io_uring_enter, so moving the tail back is safe.
    this.sqTail = Atomics.load(this.ring, this.sqHeadAt);
    Atomics.store(this.ring, this.sqTailAt, this.sqTail);
    this.queuedCount = 0;
    return r < 0 ? -e : r;
  }

  /**
   * Waits (io_uring_enter with nothing to submit) until at least `n`
   * completions are ready. Returns 0, or `-errno` (EINTR: a signal interrupted it).
   */
  wait(n: number): number {
    if (this.closed) throw new TunError('ERR_TUN_CLOSED', 'the io_uring is closed');
    const r = sys.ioUringEnter(C.SYS_io_uring_enter, this.fd, 0, n, C.IORING_ENTER_GETEVENTS, null, 0);
    return r < 0 ? -errno() : 0;
  }

  /** Completions ready to be read (acquire load of cq.tail). */
  ready(): number {
    return (Atomics.load(this.ring, this.cqTailAt) - this.cqHead) >>> 0;
  }

  /** `res` of the i-th ready completion (bytes read, or -errno). */
  result(i: number): number {
    return this.ringI32[this.cqesAt + (((this.cqHead + i) & this.cqMask) * CQE_BYTES) / 4 + 2]!;
  }

  /** Low 32 bits of the i-th ready completion's user_data. */
  userData(i: number): number {
    return this.ring[this.cqesAt + (((this.cqHead + i) & this.cqMask) * CQE_BYTES) / 4]!;
  }

  /** Hands `n` read completions back to the kernel (release store of cq.head). */
  consume(n: number): void {
    this.cqHead = (this.cqHead + n) >>> 0;
    Atomics.store(this.ring, this.cqHeadAt, this.cqHead);
  }

  /**
   * Whether this kernel completes an RWF_NOWAIT IORING_OP_READ of an empty file
   * with -EAGAIN at once, which the queue workers rely on. False on kernels
   * without IORING_OP_READ (before 5.6: -EINVAL) or that leave such a read in
   * flight. Probes with a read of a fresh, empty eventfd; call it on an idle
   * ring (it submits and consumes one SQE; a read left in flight is cancelled
   * when the ring closes, so close the ring after a false answer).
   */
  nowaitReadsWork(): boolean {
    if (this.queuedCount !== 0 || this.ready() !== 0) throw new TunError('ERR_TUN_INVALID_ARGUMENT', 'nowaitReadsWork() needs an idle ring');
    const efd = sys.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC);
    if (efd < 0) throw osError('ERR_TUN_IO_URING', 'eventfd');
    try {
      const counter = new Uint8Array(8);
      if (!this.prepareRead(efd, addressOf(counter), 8, 0, 0, C.RWF_NOWAIT)) return false;
      if (this.submit(0) !== 1 || this.ready() !== 1) return false;
      const res = this.result(0);
      this.consume(1);
      return res === -C.EAGAIN;
    } finally {
      sys.close(efd);
    }
  }

  /** Unmaps the rings and closes the fd; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    sys.munmap(this.sqePtr, this.sqeBytes);
    sys.munmap(this.ringPtr, this.ringBytes);
    sys.close(this.fd);
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
