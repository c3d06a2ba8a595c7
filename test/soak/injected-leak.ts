/**
 * A deliberate native leak, for checking that the soak's RSS assertion catches
 * one (`--leak-mib N`): resident anonymous memory mapped with MAP_POPULATE and
 * never unmapped. Nothing in JavaScript refers to it, so the array-buffer and
 * heap checks cannot see it; only RSS can.
 */
import { sys } from '@tunpipe/core';
import { currentRss } from './resources.js';

/** PROT_READ | PROT_WRITE, <asm-generic/mman-common.h>. */
const PROT_RW = 0x1 | 0x2;
/** MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE (pages faulted in at once), <asm-generic/mman-common.h>. */
const MAP_FLAGS = 0x02 | 0x20 | 0x8000;

/** Maps `bytes` of resident memory and forgets it; throws unless RSS grew by (nearly) that much. */
export function leakResident(bytes: number): void {
  if (bytes <= 0) return;
  const before = currentRss();
  sys.mmap(null, bytes, PROT_RW, MAP_FLAGS, -1, 0);
  const grown = currentRss() - before;
  if (grown < bytes * 0.9) throw new Error(`the injected leak of ${bytes} bytes is not resident (RSS grew by ${grown})`);
}
