/** Leak checks: counts to compare before and after an operation. */
import { readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Number of open file descriptors of this process (entries of /proc/self/fd; the
 * listing's own directory fd is counted too, consistently on every call).
 */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Number of threads of this process (`Threads:` in /proc/self/status). */
export function threadCount(): number {
  const m = /^Threads:\s*(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m === null) throw new Error('no Threads: line in /proc/self/status');
  return Number(m[1]);
}

/**
 * The thread count once it has fallen to `atMost` (threads of a closed or refused
 * worker set exit asynchronously), or whatever it is after `ms` (default 5000).
 */
export async function settledThreadCount(atMost: number, ms = 5000): Promise<number> {
  const deadline = performance.now() + ms;
  let n = threadCount();
  while (n > atMost && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    n = threadCount();
  }
  return n;
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection of this thread's heap. V8's gc extension is taken
 * on first use: --expose-gc switched on for one new context.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * Bytes of ArrayBuffers and SharedArrayBuffers once they have fallen to `atMost`
 * (a closed set's rings are freed once a collection finds them unreferenced and
 * V8's sweeper has run), or whatever they are after `ms` (default 5000). Collects
 * before every look.
 */
export async function settledArrayBuffers(atMost: number, ms = 5000): Promise<number> {
  const deadline = performance.now() + ms;
  collectGarbage();
  let bytes = process.memoryUsage().arrayBuffers;
  while (bytes > atMost && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    collectGarbage();
    bytes = process.memoryUsage().arrayBuffers;
  }
  return bytes;
}
