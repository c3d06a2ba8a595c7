/**
 * CPU pinning of queue workers with sched_setaffinity(2) on the calling thread.
 * `cpu_set_t` is a bit mask: CPU n is bit (n % 8) of byte (n / 8), 128 bytes for
 * 1024 CPUs (<sched.h>, CPU_SETSIZE).
 */
import { sys, errno } from '@tunpipe/core';

/** sizeof(cpu_set_t) in glibc. */
export const CPU_SET_BYTES = 128;

/** Encodes CPU numbers as a cpu_set_t. Throws RangeError for a CPU outside 0..1023. */
export function cpuSet(cpus: readonly number[]): Uint8Array {
  const mask = new Uint8Array(CPU_SET_BYTES);
  for (const cpu of cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= CPU_SET_BYTES * 8) throw new RangeError(`CPU number out of range: ${cpu}`);
    mask[cpu >> 3]! |= 1 << (cpu & 7);
  }
  return mask;
}

/** Decodes a cpu_set_t into CPU numbers, ascending. */
export function cpusOf(mask: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < mask.length * 8; i++) if ((mask[i >> 3]! & (1 << (i & 7))) !== 0) out.push(i);
  return out;
}

/** Pins the calling thread to `cpus`; returns 0 or the errno. */
export function pinCurrentThread(cpus: readonly number[]): number {
  const r = sys.schedSetaffinity(0, CPU_SET_BYTES, cpuSet(cpus));
  return r < 0 ? errno() : 0;
}

/** The CPUs the calling thread may run on. */
export function currentThreadCpus(): number[] {
  const mask = new Uint8Array(CPU_SET_BYTES);
  if (sys.schedGetaffinity(0, CPU_SET_BYTES, mask) < 0) return [];
  return cpusOf(mask);
}
