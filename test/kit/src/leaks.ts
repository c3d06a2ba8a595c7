/** Leak checks: counts to compare before and after an operation. */
import { readdirSync, readFileSync } from 'node:fs';

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
