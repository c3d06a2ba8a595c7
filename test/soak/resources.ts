/**
 * Process resources before and after the soak: RSS, open fds and threads. The
 * fd and thread counts must come back exactly, and so must the array buffers
 * (SharedArrayBuffer rings, packet buffers), within a little slack.
 *
 * RSS only within a bound: memory the worker threads freed stays with the C
 * allocator's per-thread arenas (glibc keeps up to 8 per CPU; malloc_trim(0)
 * gives back only part of it). Measured on a 2-vCPU box, RSS after each closed
 * relay (8 workers under load) climbs for the first ~5 relay lifetimes while
 * the arenas fill, then levels off about 100 MiB above the start (14 lifetimes:
 * 81, 101, 122, 137, 148, 147, 155, 151, 160, 161, 165, 172, 166, 158 MiB);
 * hence a bound, not the baseline.
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
  /** Bytes of memory outside the JS heap that V8 accounts for (array buffers included). */
  external: number;
  /** Bytes of ArrayBuffers and SharedArrayBuffers (rings included). */
  arrayBuffers: number;
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
  return { rss: m.rss, fds: openFds(), threads: threadCount(), external: m.external, arrayBuffers: m.arrayBuffers, heapUsed: m.heapUsed };
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

/** Array-buffer bytes that may stay above the baseline. */
export const ARRAY_BUFFER_SLACK = 1 << 20;

/**
 * Waits (bounded) for fds, threads and array buffers to come back to
 * `baseline`: threads exit a little after close, and a buffer is freed only once
 * nothing (a pending Atomics.waitAsync, a timer) refers to it any more.
 */
export async function settle(baseline: Resources, limitMs = 10_000): Promise<Resources> {
  const end = Date.now() + limitMs;
  let now = resources();
  const back = (r: Resources): boolean =>
    r.fds === baseline.fds && r.threads === baseline.threads && r.arrayBuffers - baseline.arrayBuffers <= ARRAY_BUFFER_SLACK;
  while (!back(now) && Date.now() < end) {
    await sleep(100);
    now = resources();
  }
  return now;
}
