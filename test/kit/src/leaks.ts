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
