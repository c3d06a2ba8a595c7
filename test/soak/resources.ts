/**
 * Process resources before and after the soak: RSS, open fds and threads. The
 * fd and thread counts must come back exactly, and so must the memory
 * JavaScript holds outside its heap (array buffers, SharedArrayBuffer rings,
 * native externals) within a little slack. RSS only within a bound: memory the
 * worker threads freed stays partly with the C allocator (per-thread arenas,
 * fragmentation; malloc_trim(0) gives back only part of it), and V8 grows its
 * heap lazily, so RSS never returns to the byte.
 */
import { readFile } from 'node:fs/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { openFds, threadCount, runCommand, onExitCleanup } from '@tunpipe/testkit';
import { sleep } from './deadline.js';

/** A snapshot. */
export interface Resources {
  /** Resident set size, bytes. */
  rss: number;
  /** Open file descriptors. */
  fds: number;
  /** Threads. */
  threads: number;
  /** Bytes of ArrayBuffers/SharedArrayBuffers plus other V8 externals held by this thread. */
  external: number;
  /** Bytes of the JavaScript heap in use. */
  heapUsed: number;
}

let gc: (() => void) | undefined;

/** A full garbage collection (exposed through V8's flags on first use). */
export function collectGarbage(): void {
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}

/** Takes a snapshot, after a full garbage collection. */
export function resources(): Resources {
  collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, fds: openFds(), threads: threadCount(), external: m.external + m.arrayBuffers, heapUsed: m.heapUsed };
}

/**
 * Brings the process to its steady state before the baseline: libuv's thread
 * pool starts on first use (fs promises), the stdio streams and the SIGCHLD
 * machinery on first use, and testkit's exit safety net installs its signal
 * handlers on first registration; use each once.
 */
export async function warmUp(): Promise<void> {
  await readFile('/proc/self/status');
  void process.stdout.writable;
  void process.stderr.writable;
  await runCommand('ip', ['-V']);
  onExitCleanup(() => undefined)();
}

/** Waits (bounded) for fds and threads to come back to `baseline` (threads exit a little after close). */
export async function settle(baseline: Resources, limitMs = 10_000): Promise<Resources> {
  const end = Date.now() + limitMs;
  let now = resources();
  while ((now.fds !== baseline.fds || now.threads !== baseline.threads) && Date.now() < end) {
    await sleep(100);
    now = resources();
  }
  return now;
}
