/**
 * `fixMallocThresholds`: let glibc give back to the kernel the memory that
 * exited threads freed, for a process that opens and closes queue sets (or any
 * worker threads) for a long time.
 *
 * Why a process grows when threads come and go (glibc 2.36, malloc/malloc.c and
 * malloc/arena.c):
 *
 *     thread starts  -> takes an arena from the free list (or makes a new one,
 *                       up to 8 per CPU); everything it mallocs comes from there
 *     thread exits   -> its isolate, zones and buffers are freed into that arena;
 *                       the free space collects at the arena's top chunk
 *     free()         -> shrinks a non-main arena's top only when the top is larger
 *                       than M_TRIM_THRESHOLD
 *     malloc_trim(0) -> releases free pages inside every arena's bins and the main
 *                       arena's top, never another arena's top
 *
 * M_TRIM_THRESHOLD starts at 128 KiB but is dynamic: freeing a chunk that had its
 * own mmap (128 KiB to 32 MiB: a ring's SharedArrayBuffer, a worker's heap
 * reservation) raises M_MMAP_THRESHOLD to that chunk's size and M_TRIM_THRESHOLD
 * to twice it. After one 16 MiB ring is freed, every arena may keep 32 MiB of
 * free top. Setting either threshold with mallopt(3) turns the dynamic rise off
 * for both (glibc's `no_dyn_threshold`), so free tops above the threshold go back
 * on the next free().
 *
 * This is process-wide, so tunpipe never does it on its own: call it once at
 * start. The same can be had without code from the environment:
 * `GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072`.
 * The cost: allocations above the mmap threshold always get their own mapping,
 * an mmap and munmap each (a process that churns large Buffers pays for that).
 * Measured in test/soak/README.md. On a libc other than glibc, mallopt(3) may
 * accept the values and do nothing.
 */
import { TunError } from '@tunpipe/offload';
import { sys } from './libc.js';
import { M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, MMAP_THRESHOLD_MAX } from './constants.js';
import { validateByteCount } from './validate.js';

/** Options of `fixMallocThresholds` (bytes). */
export interface MallocThresholds {
  /** Free memory at an arena's top above which free() returns it to the kernel. Default 128 KiB (glibc's initial value). */
  trimThreshold?: number;
  /** Allocations at least this large get their own mmap. Default 128 KiB (glibc's initial value); at most 32 MiB. */
  mmapThreshold?: number;
}

/** glibc's initial M_TRIM_THRESHOLD and M_MMAP_THRESHOLD (DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_THRESHOLD_MIN). */
export const DEFAULT_MALLOC_THRESHOLD = 128 * 1024;

/** Largest trim threshold: mallopt(3) takes an int. */
const TRIM_THRESHOLD_MAX = 0x7fffffff;

/**
 * Fixes glibc's malloc trim and mmap thresholds (turning off their dynamic rise), so
 * memory freed by exited worker threads goes back to the kernel; returns the values set.
 * Throws ERR_TUN_INVALID_ARGUMENT, before changing anything, for a value out of range.
 */
export function fixMallocThresholds(options: MallocThresholds = {}): Required<MallocThresholds> {
  const trimThreshold = validateByteCount(options.trimThreshold ?? DEFAULT_MALLOC_THRESHOLD, 'trimThreshold', TRIM_THRESHOLD_MAX);
  const mmapThreshold = validateByteCount(options.mmapThreshold ?? DEFAULT_MALLOC_THRESHOLD, 'mmapThreshold', MMAP_THRESHOLD_MAX);
  // glibc's mallopt returns 0 only for a value it refuses, which the checks above rule out.
  if (sys.mallopt(M_MMAP_THRESHOLD, mmapThreshold) !== 1 || sys.mallopt(M_TRIM_THRESHOLD, trimThreshold) !== 1) {
    throw new TunError('ERR_TUN_NOT_SUPPORTED', `mallopt refused trimThreshold ${trimThreshold} or mmapThreshold ${mmapThreshold}`, { syscall: 'mallopt' });
  }
  return { trimThreshold, mmapThreshold };
}
