/**
 * Process resources before and after the soak: RSS, open fds and threads. The
 * fd and thread counts must come back exactly, and so must the array buffers
 * (SharedArrayBuffer rings, packet buffers), within a little slack.
 *
 * RSS is compared after V8 gave back what it holds free (`settleRss`), with a
 * tolerance (soak-run.ts); memory-map.ts says what RSS consists of (README.md).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import v8 from 'node:v8';
import { sys } from '@tunpipe/core';
import { openFds, threadCount, runCommand, onExitCleanup, collectGarbage, settledArrayBuffers } from '@tunpipe/testkit';
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

/** Resident set size now (bytes), VmRSS of /proc/self/status: no collection. */
export function currentRss(): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m?.[1] ?? Number.NaN) * 1024;
}

/**
 * Makes V8 give back the memory it holds free (see `settleRss`); resolves with
 * RSS 200 ms later. The snapshot's own ~35 MiB of malloc'd bookkeeping is freed
 * in the middle of the main arena, so malloc_trim gives those pages back too.
 */
export async function reduceHeap(): Promise<number> {
  v8.getHeapSnapshot().destroy();
  collectGarbage();
  sys.mallocTrim(0);
  await sleep(200);
  return currentRss();
}

/**
 * Makes V8 give back the memory it holds free (`reduceHeap`), then waits
 * (bounded) for RSS to come down to `target` bytes; returns the last RSS seen.
 *
 * Under load V8 grows the main isolate's new space to 16 MiB or more and keeps
 * it. It shrinks it in a collection with "reduce memory" set
 * (`Heap::CollectAllAvailableGarbage`), which its memory reducer runs only
 * sometimes when the process idles, and which JavaScript reaches only through a
 * heap snapshot: so this takes one (and drops it). Freed pages are unmapped by a
 * V8 background thread shortly after.
 */
export async function settleRss(target: number, limitMs = 5_000): Promise<number> {
  const end = Date.now() + limitMs;
  let rss = await reduceHeap();
  while (rss > target && Date.now() < end) {
    await sleep(100);
    rss = currentRss();
  }
  return rss;
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

/**
 * Waits (bounded) until the array buffers are back to `baseline` (a closed
 * relay's rings are freed once the garbage collector finds them unreferenced),
 * so a memory snapshot taken afterwards does not count rings on their way out.
 */
export async function settleBuffers(baseline: Resources, limitMs = 10_000): Promise<void> {
  await settledArrayBuffers(baseline.arrayBuffers + ARRAY_BUFFER_SLACK, limitMs);
}
