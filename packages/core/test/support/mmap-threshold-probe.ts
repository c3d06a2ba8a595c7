/**
 * Child process of malloc-thresholds.test.ts: shows whether glibc's dynamic
 * mmap threshold is on. Frees a 16 MiB buffer that had its own mmap (as a closed
 * queue set frees its TX ring), which raises a dynamic threshold to 16 MiB, then
 * allocates 1 MiB and reports whether that got its own mmap too (struct
 * mallinfo2's `hblkhd`: bytes in chunks mmap'd on their own).
 *
 *   node --expose-gc mmap-threshold-probe.js fixed|default
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fixMallocThresholds, sys } from '@tunpipe/core';

/** What the child prints. */
export interface ProbeReport {
  /** The values fixMallocThresholds set, or null (glibc's defaults). */
  fixed: { trimThreshold: number; mmapThreshold: number } | null;
  /** The 16 MiB buffer was mmap'd on its own and is freed. */
  bigFreed: boolean;
  /** Bytes of own-mmap chunks the 1 MiB buffer added (0 when it came from the heap). */
  smallMmapped: number;
}

const mode = process.argv[2];
const gc = (globalThis as { gc?: () => void }).gc;
if ((mode !== 'fixed' && mode !== 'default') || gc === undefined) {
  process.stderr.write('usage: node --expose-gc mmap-threshold-probe.js fixed|default\n');
  process.exit(2);
}
const fixed = mode === 'fixed' ? fixMallocThresholds() : null;
const mmapped = (): number => sys.mallinfo2().hblkhd;

const base = mmapped();
let big: ArrayBuffer | null = new ArrayBuffer(16 << 20);
const bigMapped = mmapped() - base >= 16 << 20;
big = null;
// V8 frees array buffers' memory after the collection, on a sweeper thread: wait for it (bounded).
let bigFreed = false;
for (let i = 0; i < 100 && !bigFreed; i++) {
  gc();
  bigFreed = bigMapped && mmapped() - base < 16 << 20;
  if (!bigFreed) await sleep(20);
}
const before = mmapped();
const small = new ArrayBuffer(1 << 20);
const report: ProbeReport = { fixed, bigFreed, smallMmapped: mmapped() - before };
process.stdout.write(`${JSON.stringify(report)}\n`);
void small;
