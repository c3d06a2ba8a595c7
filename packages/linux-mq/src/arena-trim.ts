/**
 * Giving a closed set's memory back to the kernel, off the close path.
 *
 * Every worker thread of a closed set is joined, and glibc keeps what those
 * threads freed in their arenas. `malloc_trim(0)` hands the free pages of every
 * arena back (soak: 10-20 MiB per closed 8-worker set; test/soak/README.md). It
 * takes 1-7 ms idle and up to ~15 ms on a loaded 2-CPU machine, which is why
 * `close()` does not wait for it: the trim runs on the next turn of the event
 * loop, once however many sets closed in this one, and never keeps the process
 * alive by itself.
 */
import { sys } from '@tunpipe/core';

let pending: NodeJS.Immediate | undefined;

/** Runs `malloc_trim(0)` on the next turn of the event loop (one trim for any number of calls before it). */
export function trimArenasSoon(): void {
  if (pending !== undefined) return;
  pending = setImmediate(() => {
    pending = undefined;
    sys.mallocTrim(0);
  });
  pending.unref();
}
