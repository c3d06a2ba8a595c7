/**
 * What the process's resident memory consists of, from /proc/self/smaps, the
 * C allocator's counters (glibc mallinfo2) and V8's heap statistics: the soak's
 * `--rss-report` prints it after every epoch so RSS growth can be attributed.
 *
 * Mappings are grouped by what they look like on x86-64 glibc:
 *
 *   [heap]          main arena (brk), malloc of the main thread
 *   arena heaps     anonymous, start aligned to 64 MiB (HEAP_MAX_SIZE), rw-p part
 *                   followed by a ---p rest up to exactly 64 MiB: the arenas glibc
 *                   gives other threads (workers, libuv pool, V8 platform threads)
 *   thread stacks   a one-page ---p guard directly below an rw-p mapping
 *   [stack]         the main thread's stack
 *   V8 pages        anonymous rw-p, exactly 256 KiB and aligned to it: V8's heap pages
 *                   (new, old, map space; pooled free pages too)
 *   files           the node binary, shared libraries, other file mappings
 *   other anonymous everything else: V8 code and large-object pages, chunks malloc
 *                   mmap'd on their own (large ArrayBuffer / SharedArrayBuffer
 *                   backing stores), ...
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { sys } from '@tunpipe/core';

/** glibc's HEAP_MAX_SIZE on 64-bit: 2 * DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB. */
const ARENA_HEAP_BYTES = 64 << 20;
const PAGE = 4096;
/** V8's regular heap page (kPageSize on x64). */
const V8_PAGE_BYTES = 256 << 10;

/** One line of /proc/self/smaps with its Rss. */
interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rss: number;
}

/** Resident bytes by kind of mapping (see the file comment), plus counts. */
export interface MappingGroups {
  /** `[heap]`: the main arena. */
  brkHeap: number;
  /** 64 MiB-aligned arena heaps of other threads. */
  arenaHeaps: number;
  /** How many arena heaps are mapped. */
  arenaHeapCount: number;
  /** Thread stacks (guard page + rw-p mapping). */
  threadStacks: number;
  /** How many thread stacks are mapped (exited threads' stacks that glibc caches included). */
  threadStackCount: number;
  /** `[stack]`. */
  mainStack: number;
  /** V8 heap pages (256 KiB, aligned). */
  v8Pages: number;
  /** File-backed mappings. */
  files: number;
  /** Anonymous mappings that are none of the above. */
  otherAnonymous: number;
  /** Sum of all Rss. */
  total: number;
}

/** The full picture at one moment. */
export interface MemoryMap {
  /** Resident bytes: the sum of every mapping's Rss in /proc/self/smaps (`groups.total`). */
  rss: number;
  /** Resident bytes by kind of mapping. */
  groups: MappingGroups;
  /** glibc mallinfo2: system bytes of all arenas (`arena`), in use (`uordblks`), free but kept (`fordblks`), mmap'd chunks (`hblkhd`). */
  malloc: { arenaBytes: number; inUse: number; free: number; mmapped: number; mmappedChunks: number };
  /** Main isolate: physical bytes per V8 heap space (new, old, code, large object...). */
  v8Spaces: Record<string, number>;
  /** Main isolate: bytes of live objects in the spaces made of regular pages (all but the large-object spaces). */
  v8UsedInPages: number;
  /** Main isolate: committed bytes of those spaces. */
  v8CommittedInPages: number;
  /** ArrayBuffer and SharedArrayBuffer bytes this isolate knows of. */
  arrayBuffers: number;
}

function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) {
      cur = { start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), perms: head[3]!, path: head[4]!, rss: 0 };
      out.push(cur);
    } else if (cur !== undefined && line.startsWith('Rss:')) {
      cur.rss = Number(/(\d+)/.exec(line)![1]) * 1024;
    }
  }
  return out;
}

/** Groups /proc/self/smaps (or the given text of one) by kind of mapping. */
export function groupMappings(smaps: string = readFileSync('/proc/self/smaps', 'utf8')): MappingGroups {
  const maps = parseSmaps(smaps);
  const g: MappingGroups = { brkHeap: 0, arenaHeaps: 0, arenaHeapCount: 0, threadStacks: 0, threadStackCount: 0, mainStack: 0, v8Pages: 0, files: 0, otherAnonymous: 0, total: 0 };
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    g.total += m.rss;
    if (m.path === '[heap]') g.brkHeap += m.rss;
    else if (m.path === '[stack]') g.mainStack += m.rss;
    else if (m.path.startsWith('/')) g.files += m.rss;
    else if (m.path !== '') g.otherAnonymous += m.rss;
    else if (m.start % ARENA_HEAP_BYTES === 0 && arenaEnd(maps, i) !== -1) {
      const last = arenaEnd(maps, i);
      for (let j = i; j <= last; j++) g.arenaHeaps += maps[j]!.rss;
      for (let j = i + 1; j <= last; j++) g.total += maps[j]!.rss;
      g.arenaHeapCount++;
      i = last;
    } else if (m.perms === '---p' && m.end - m.start === PAGE && maps[i + 1]?.start === m.end && maps[i + 1]!.perms === 'rw-p' && maps[i + 1]!.path === '') {
      g.threadStacks += maps[i + 1]!.rss;
      g.total += maps[i + 1]!.rss;
      g.threadStackCount++;
      i++;
    } else if (m.perms === 'rw-p' && m.end - m.start === V8_PAGE_BYTES && m.start % V8_PAGE_BYTES === 0) g.v8Pages += m.rss;
    else g.otherAnonymous += m.rss;
  }
  return g;
}

/** Index of the last mapping of the arena heap starting at `maps[i]`, or -1 if it is not one. */
function arenaEnd(maps: Mapping[], i: number): number {
  const limit = maps[i]!.start + ARENA_HEAP_BYTES;
  let j = i;
  while (maps[j] !== undefined && maps[j]!.path === '' && maps[j]!.end < limit && maps[j + 1]?.start === maps[j]!.end) j++;
  const m = maps[j];
  if (m === undefined || m.path !== '' || m.end !== limit) return -1;
  // A heap is rw-p from its start, then ---p (never-used or shrunk tail).
  if (maps[i]!.perms !== 'rw-p') return -1;
  return j;
}

/** Takes the full picture now (call after a garbage collection for stable numbers). */
export function memoryMap(): MemoryMap {
  const mi = sys.mallinfo2();
  const v8Spaces: Record<string, number> = {};
  let v8UsedInPages = 0;
  let v8CommittedInPages = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    v8Spaces[s.space_name] = s.physical_space_size;
    if (s.space_name.includes('large_object')) continue;
    v8UsedInPages += s.space_used_size;
    v8CommittedInPages += s.physical_space_size;
  }
  const mu = process.memoryUsage();
  // RSS as the sum of the mappings read in the same pass: the kernel's counter
  // (VmRSS) read a moment apart can differ by what V8's unmapper thread released meanwhile.
  const groups = groupMappings();
  return {
    rss: groups.total,
    groups,
    malloc: { arenaBytes: Number(mi.arena), inUse: Number(mi.uordblks), free: Number(mi.fordblks), mmapped: Number(mi.hblkhd), mmappedChunks: Number(mi.hblks) },
    v8Spaces,
    v8UsedInPages,
    v8CommittedInPages,
    arrayBuffers: mu.arrayBuffers,
  };
}

/**
 * Resident bytes the two allocators hold free for reuse: glibc's arenas
 * ([heap] + arena heaps) minus malloc's bytes in use, plus the main isolate's
 * regular heap pages (committed, or resident if more: V8 pools freed pages
 * outside every space) minus the live objects in them. Never negative.
 */
export function allocatorSlack(m: MemoryMap): number {
  const malloc = Math.max(0, m.groups.brkHeap + m.groups.arenaHeaps - m.malloc.inUse);
  const v8Pages = Math.max(m.groups.v8Pages, m.v8CommittedInPages);
  return malloc + Math.max(0, v8Pages - m.v8UsedInPages);
}

/**
 * RSS net of `allocatorSlack`: the memory something actually holds (live
 * malloc chunks, live JS objects, mmap'd buffers, stacks, code). A leak of any
 * of these raises it; memory freed but kept by an allocator does not.
 */
export function rssInUse(m: MemoryMap): number {
  return m.rss - allocatorSlack(m);
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/** One line: RSS and its parts, in MiB. */
export function formatMemoryMap(m: MemoryMap): string {
  const g = m.groups;
  const v8Total = Object.values(m.v8Spaces).reduce((a, b) => a + b, 0);
  return [
    `RSS ${mib(m.rss)} (in use ${mib(rssInUse(m))}, allocators' free ${mib(allocatorSlack(m))}):`,
    `[heap] ${mib(g.brkHeap)},`,
    `arenas ${mib(g.arenaHeaps)} (${g.arenaHeapCount}),`,
    `stacks ${mib(g.threadStacks)} (${g.threadStackCount}),`,
    `V8 pages ${mib(g.v8Pages)},`,
    `files ${mib(g.files)},`,
    `other anon ${mib(g.otherAnonymous)};`,
    `malloc in use ${mib(m.malloc.inUse)}, free kept ${mib(m.malloc.free)}, mmapped ${mib(m.malloc.mmapped)} (${m.malloc.mmappedChunks});`,
    `V8 main ${mib(v8Total)} (old ${mib(m.v8Spaces.old_space ?? 0)}, code ${mib(m.v8Spaces.code_space ?? 0)}, new ${mib(m.v8Spaces.new_space ?? 0)}, large ${mib((m.v8Spaces.large_object_space ?? 0) + (m.v8Spaces.code_large_object_space ?? 0) + (m.v8Spaces.new_large_object_space ?? 0))});`,
    `array buffers ${mib(m.arrayBuffers)}`,
  ].join(' ');
}
