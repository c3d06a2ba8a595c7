/**
 * The soak's RSS breakdown (test/soak/memory-map.ts): /proc/self/smaps mappings
 * grouped by kind, table-driven over synthetic smaps text, and the live
 * snapshot's parts adding up.
 */
import t from 'tap';
import { groupMappings, memoryMap, rssInUse, allocatorSlack, type MappingGroups } from '../soak/memory-map.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** One smaps entry: header line plus an Rss line (kB). */
function entry(start: number, end: number, perms: string, path: string, rssKiB: number): string {
  const hex = (n: number): string => n.toString(16).padStart(12, '0');
  return `${hex(start)}-${hex(end)} ${perms} 00000000 00:00 0${path === '' ? '' : `    ${path}`}\nSize: ${(end - start) / KiB} kB\nRss: ${rssKiB} kB\nPss: ${rssKiB} kB\n`;
}

const ARENA = 0x7f0000000000; // 64 MiB-aligned
const V8 = 0x3a0000040000; // 256 KiB-aligned, not 64 MiB-aligned

const cases: Array<{ name: string; smaps: string; expect: Partial<MappingGroups> }> = [
  { name: 'brk heap', smaps: entry(0x1000000, 0x1400000, 'rw-p', '[heap]', 3000), expect: { brkHeap: 3000 * KiB, total: 3000 * KiB } },
  { name: 'main stack', smaps: entry(0x7ffd00000000, 0x7ffd00021000, 'rw-p', '[stack]', 100), expect: { mainStack: 100 * KiB } },
  { name: 'file mapping', smaps: entry(0x400000, 0x800000, 'r-xp', '/usr/bin/node', 2048), expect: { files: 2048 * KiB } },
  {
    name: 'arena heap: rw-p start at 64 MiB alignment, ---p rest up to 64 MiB',
    smaps: entry(ARENA, ARENA + 2 * MiB, 'rw-p', '', 1500) + entry(ARENA + 2 * MiB, ARENA + 64 * MiB, '---p', '', 0),
    expect: { arenaHeaps: 1500 * KiB, arenaHeapCount: 1, otherAnonymous: 0, total: 1500 * KiB },
  },
  {
    name: 'fully grown arena heap (one 64 MiB rw-p mapping)',
    smaps: entry(ARENA, ARENA + 64 * MiB, 'rw-p', '', 9000),
    expect: { arenaHeaps: 9000 * KiB, arenaHeapCount: 1 },
  },
  {
    name: '64 MiB-aligned mapping that does not end at 64 MiB is not an arena',
    smaps: entry(ARENA, ARENA + 2 * MiB, 'rw-p', '', 700),
    expect: { arenaHeaps: 0, arenaHeapCount: 0, otherAnonymous: 700 * KiB },
  },
  {
    name: 'thread stack: one-page guard directly below rw-p',
    smaps: entry(0x7f1000000000, 0x7f1000001000, '---p', '', 0) + entry(0x7f1000001000, 0x7f1000401000, 'rw-p', '', 40),
    expect: { threadStacks: 40 * KiB, threadStackCount: 1, otherAnonymous: 0, total: 40 * KiB },
  },
  {
    name: 'guard page not followed by an adjacent rw-p is no stack',
    smaps: entry(0x7f1000000000, 0x7f1000001000, '---p', '', 0) + entry(0x7f1000002000, 0x7f1000402000, 'rw-p', '', 40),
    expect: { threadStacks: 0, threadStackCount: 0, otherAnonymous: 40 * KiB },
  },
  { name: 'V8 page: 256 KiB rw-p, aligned', smaps: entry(V8, V8 + 256 * KiB, 'rw-p', '', 200), expect: { v8Pages: 200 * KiB, otherAnonymous: 0 } },
  { name: '256 KiB mapping off the 256 KiB grid is other anonymous', smaps: entry(V8 + 4 * KiB, V8 + 260 * KiB, 'rw-p', '', 200), expect: { v8Pages: 0, otherAnonymous: 200 * KiB } },
  { name: 'other named mapping ([vdso])', smaps: entry(0x7ffd10000000, 0x7ffd10002000, 'r-xp', '[vdso]', 8), expect: { otherAnonymous: 8 * KiB } },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const g = groupMappings(c.smaps);
    for (const [k, v] of Object.entries(c.expect)) t.equal(g[k as keyof MappingGroups], v, k);
  });
}

t.test('total is the sum of every Rss line, whatever the grouping', async (t) => {
  const smaps = cases.map((c) => c.smaps).join('');
  const g = groupMappings(smaps);
  const sum = [...smaps.matchAll(/^Rss: (\d+) kB$/gm)].reduce((a, m) => a + Number(m[1]) * KiB, 0);
  t.equal(g.total, sum);
  t.equal(g.brkHeap + g.arenaHeaps + g.threadStacks + g.mainStack + g.v8Pages + g.files + g.otherAnonymous, sum, 'the groups partition it');
});

t.test('live snapshot: groups cover RSS, in-use plus allocator slack is RSS', async (t) => {
  const m = memoryMap();
  // smaps and memoryUsage are read a moment apart; allow a few pages of drift.
  t.ok(Math.abs(m.groups.total - m.rss) < 2 * MiB, `smaps total ${m.groups.total} ≈ rss ${m.rss}`);
  t.ok(m.groups.files > 0 && m.groups.brkHeap > 0 && m.groups.v8Pages > 0, 'node binary, brk heap and V8 pages found');
  t.ok(m.malloc.inUse > 0 && m.v8UsedInPages > 0, 'mallinfo2 and V8 statistics read');
  t.ok(allocatorSlack(m) >= 0);
  t.equal(rssInUse(m) + allocatorSlack(m), m.rss);
});
