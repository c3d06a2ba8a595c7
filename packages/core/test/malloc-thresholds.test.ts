/**
 * fixMallocThresholds: glibc's mmap and trim thresholds stay where they are set
 * instead of rising after a large buffer is freed (the rise that lets exited
 * threads' arenas keep their free memory), and bad values are refused before
 * anything changes. The effect is observed in a child process
 * (`support/mmap-threshold-probe.ts`) through struct mallinfo2.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fixMallocThresholds, DEFAULT_MALLOC_THRESHOLD } from '../src/malloc-thresholds.js';
import type { ProbeReport } from './support/mmap-threshold-probe.js';

const PROBE = fileURLToPath(new URL('./support/mmap-threshold-probe.js', import.meta.url));

function probe(mode: 'fixed' | 'default'): ProbeReport {
  const r = spawnSync(process.execPath, ['--expose-gc', PROBE, mode], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`probe exited ${r.status ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ProbeReport;
}

t.test('glibc by default: freeing a 16 MiB mmap\'d buffer raises the mmap threshold past 1 MiB', async (t) => {
  const r = probe('default');
  t.ok(r.bigFreed, 'the 16 MiB buffer had its own mmap and was freed');
  t.equal(r.smallMmapped, 0, 'a 1 MiB buffer afterwards comes from the heap (threshold now 16 MiB)');
});

t.test('fixed thresholds: the same free leaves the threshold at 128 KiB', async (t) => {
  const r = probe('fixed');
  t.same(r.fixed, { trimThreshold: DEFAULT_MALLOC_THRESHOLD, mmapThreshold: DEFAULT_MALLOC_THRESHOLD }, 'returns the values it set (glibc\'s initial ones)');
  t.ok(r.bigFreed, 'the 16 MiB buffer had its own mmap and was freed');
  t.ok(r.smallMmapped >= 1 << 20, `a 1 MiB buffer afterwards still gets its own mmap (${r.smallMmapped} bytes)`);
});

const BAD: Array<[string, Parameters<typeof fixMallocThresholds>[0]]> = [
  ['negative trim threshold', { trimThreshold: -1 }],
  ['fractional trim threshold', { trimThreshold: 1.5 }],
  ['trim threshold beyond an int', { trimThreshold: 2 ** 31 }],
  ['trim threshold as a string', { trimThreshold: '131072' as unknown as number }],
  ['NaN mmap threshold', { mmapThreshold: Number.NaN }],
  ['mmap threshold above glibc\'s 32 MiB limit', { mmapThreshold: (32 << 20) + 1 }],
  ['negative mmap threshold', { mmapThreshold: -4096 }],
];

t.test('bad values: ERR_TUN_INVALID_ARGUMENT, naming the option', async (t) => {
  for (const [what, options] of BAD) {
    t.throws(() => fixMallocThresholds(options), { name: 'TunError', code: 'ERR_TUN_INVALID_ARGUMENT', message: new RegExp(`^${Object.keys(options!)[0]!} must be`) }, what);
  }
});
