/**
 * RFC 1071 sums: the fast DataView/word loops against the literal word-by-word
 * definition for every length 0..9001 at several start alignments, the fused
 * copy-and-sum against the same reference, known vectors from the RFCs, and the
 * pseudo-header sums against pseudo-headers laid out byte by byte.
 */
import t from 'tap';
import {
  addSums,
  foldSum,
  internetChecksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
  onesComplementSum,
  parseIpv4,
  parseIpv6,
} from '../src/index.js';
import { copyAndSum, copyBytes } from '../src/copy-checksum.js';
import { naiveAdd, naiveChecksum, naiveSum } from './support/naive-checksum.js';

const MAX_LEN = 9001;

/** Deterministic pseudo-random bytes (xorshift32), so a failure names a reproducible case. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

t.test('known vectors', async (t) => {
  const rows: { name: string; bytes: number[]; sum?: number; checksum?: number }[] = [
    // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
    { name: 'RFC 1071 numerical example', bytes: [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], sum: 0xddf2 },
    { name: 'empty', bytes: [], sum: 0 },
    { name: 'one byte is the high half of a word', bytes: [0xab], sum: 0xab00 },
    { name: 'all-ones words fold to 0xffff', bytes: [0xff, 0xff, 0xff, 0xff], sum: 0xffff },
    // An IPv4 header with its checksum zeroed (the well-known example, checksum b861).
    {
      name: 'IPv4 header checksum',
      bytes: [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7],
      checksum: 0xb861,
    },
  ];
  for (const row of rows) {
    t.test(row.name, async (t) => {
      const bytes = Uint8Array.from(row.bytes);
      if (row.sum !== undefined) t.equal(onesComplementSum(bytes), row.sum);
      if (row.checksum !== undefined) t.equal(internetChecksum(bytes), row.checksum);
    });
  }
});

t.test('onesComplementSum equals the word-by-word definition for every length 0..9001', async (t) => {
  // Alignment of the start within its ArrayBuffer (byteOffset + start) mod 4 covers
  // every lane arrangement of the 32-bit loop; the index start covers the pairing.
  const backing = randomBytes(MAX_LEN + 16, 0x1071);
  const cases = [
    { byteOffset: 0, start: 0 },
    { byteOffset: 0, start: 1 },
    { byteOffset: 0, start: 2 },
    { byteOffset: 0, start: 3 },
    { byteOffset: 1, start: 0 },
    { byteOffset: 3, start: 2 },
  ];
  for (const c of cases) {
    const view = new Uint8Array(backing.buffer, c.byteOffset, MAX_LEN + 8);
    let mismatches = 0;
    let first = -1;
    for (let len = 0; len <= MAX_LEN; len++) {
      if (onesComplementSum(view, c.start, c.start + len) !== naiveSum(view, c.start, c.start + len)) {
        mismatches++;
        if (first < 0) first = len;
      }
    }
    t.equal(mismatches, 0, `byteOffset ${c.byteOffset}, start ${c.start}: first mismatch at length ${first}`);
  }
});

t.test('carry-heavy data: all 0xff and alternating extremes, every length 0..9001', async (t) => {
  for (const [name, fill] of [
    ['0xff', (i: number) => (i >= 0 ? 0xff : 0)],
    ['ff 00 01 fe', (i: number) => [0xff, 0x00, 0x01, 0xfe][i & 3]],
  ] as const) {
    const bytes = Uint8Array.from({ length: MAX_LEN + 3 }, (_, i) => fill(i));
    let bad = -1;
    for (let len = 0; len <= MAX_LEN && bad < 0; len++) {
      for (const start of [0, 1, 3]) {
        if (onesComplementSum(bytes, start, start + len) !== naiveSum(bytes, start, start + len)) bad = len;
      }
    }
    t.equal(bad, -1, `${name}: no mismatch`);
  }
});

t.test('buffers longer than one fold block (4 MiB) stay exact', async (t) => {
  const big = new Uint8Array(9 * 1024 * 1024 + 7).fill(0xff);
  t.equal(onesComplementSum(big, 1), naiveSum(big, 1));
  const random = randomBytes(5 * 1024 * 1024 + 3, 99);
  t.equal(onesComplementSum(random, 2), naiveSum(random, 2));
});

t.test('initial sum, internetChecksum, foldSum and addSums', async (t) => {
  const bytes = randomBytes(777, 5);
  const partial = 0x1_2345;
  t.equal(onesComplementSum(bytes, 0, bytes.length, partial), naiveAdd(naiveSum(bytes), 0x2345, 0x1));
  t.equal(internetChecksum(bytes, 3, 500), naiveChecksum(bytes, 3, 500));
  t.equal(foldSum(0), 0, 'zero stays zero');
  t.equal(foldSum(0xffff), 0xffff, 'negative zero stays');
  t.equal(foldSum(0x1_0000), 1, 'end-around carry');
  t.equal(foldSum(2 ** 52 + 3), naiveAdd(0x10, 0, 0, 3), '2^52 + 3 = 0x0010 0000 0000 0003');
  t.equal(addSums(0xffff, 1), 1);
  t.equal(addSums(0x8000, 0x8000), 1);
  // Data containing its own checksum sums to 0xffff, so its checksum is 0.
  const withChecksum = new Uint8Array(10);
  withChecksum.set([1, 2, 3, 4, 5, 6, 7, 8]);
  const c = internetChecksum(withChecksum, 0, 8);
  withChecksum[8] = c >> 8;
  withChecksum[9] = c & 0xff;
  t.equal(onesComplementSum(withChecksum), 0xffff);
  t.equal(internetChecksum(withChecksum), 0);
});

t.test('sums of even-split parts add up; an odd split swaps the second part', async (t) => {
  const bytes = randomBytes(1000, 7);
  for (const cut of [0, 2, 64, 500, 998, 1000]) {
    t.equal(addSums(onesComplementSum(bytes, 0, cut), onesComplementSum(bytes, cut)), onesComplementSum(bytes), `cut at ${cut}`);
  }
  const swap = (x: number) => ((x & 0xff) << 8) | (x >> 8);
  for (const cut of [1, 63, 501]) {
    t.equal(addSums(onesComplementSum(bytes, 0, cut), swap(onesComplementSum(bytes, cut))), onesComplementSum(bytes), `odd cut at ${cut}`);
  }
});

t.test('range and argument checks', async (t) => {
  const bytes = new Uint8Array(8);
  const rows: [string, () => unknown][] = [
    ['end past the array', () => onesComplementSum(bytes, 0, 9)],
    ['start after end', () => onesComplementSum(bytes, 5, 4)],
    ['negative start', () => onesComplementSum(bytes, -1)],
    ['fractional start', () => onesComplementSum(bytes, 0.5)],
    ['negative initial', () => onesComplementSum(bytes, 0, 8, -1)],
    ['IPv4 header past the end', () => ipv4PseudoHeaderSum(bytes, 0, 6, 20)],
    ['protocol > 255', () => ipv4PseudoHeaderSum(new Uint8Array(20), 0, 256, 20)],
    ['IPv4 L4 length > 65535', () => ipv4PseudoHeaderSum(new Uint8Array(20), 0, 6, 65536)],
  ];
  for (const [name, fn] of rows) t.throws(fn, { code: 'ERR_TUN_INVALID_ARGUMENT' }, name);
});

t.test('pseudo-header sums equal the sum of a pseudo-header laid out byte by byte', async (t) => {
  t.test('IPv4 (RFC 793)', async (t) => {
    const header = new Uint8Array(20);
    header.set(parseIpv4('192.0.2.1'), 12);
    header.set(parseIpv4('198.51.100.254'), 16);
    for (const [protocol, length] of [[6, 20], [17, 1480], [6, 65535]]) {
      const pseudo = new Uint8Array(12);
      pseudo.set(header.subarray(12, 20), 0);
      pseudo[9] = protocol;
      pseudo[10] = length >> 8;
      pseudo[11] = length & 0xff;
      t.equal(ipv4PseudoHeaderSum(header, 0, protocol, length), naiveSum(pseudo), `protocol ${protocol}, length ${length}`);
    }
  });
  t.test('IPv6 (RFC 8200 section 8.1)', async (t) => {
    const header = new Uint8Array(50);
    header.set(parseIpv6('2001:db8::1'), 10 + 8);
    header.set(parseIpv6('2001:db8:ffff::abcd'), 10 + 24);
    for (const [next, length] of [[6, 20], [17, 70000], [58, 0xffffffff]]) {
      const pseudo = new Uint8Array(40);
      pseudo.set(header.subarray(18, 50), 0);
      new DataView(pseudo.buffer).setUint32(32, length);
      pseudo[39] = next;
      t.equal(ipv6PseudoHeaderSum(header, 10, next, length), naiveSum(pseudo), `next ${next}, length ${length}`);
    }
  });
});

t.test('copyAndSum copies exactly and sums like the reference (alignment pairs mod 8, shared or not, lengths 0..600 and 9001)', async (t) => {
  const ordinary = randomBytes(10_000, 3);
  const sharedSource = new Uint8Array(new SharedArrayBuffer(10_000));
  sharedSource.set(ordinary);
  const lengths = [...Array.from({ length: 601 }, (_, i) => i), 1448, 9001];
  let failures = 0;
  for (const srcAlign of [0, 1, 2, 3, 4, 5, 6, 7]) {
    for (const dstAlign of [0, 1, 2, 3, 4, 5, 6, 7]) {
      for (const [srcShared, shared] of [[false, false], [false, true], [true, false], [true, true]]) {
        const source = srcShared ? sharedSource : ordinary;
        const dstBacking = new Uint8Array(shared ? new SharedArrayBuffer(10_000) : new ArrayBuffer(10_000));
        const src = new Uint8Array(source.buffer, srcAlign, 9_100);
        const dst = new Uint8Array(dstBacking.buffer, dstAlign, 9_200);
        for (const len of lengths) {
          dstBacking.fill(0xee);
          const s = copyAndSum(src, 5, dst, 9, len);
          const same = dst.subarray(9, 9 + len).every((b, i) => b === src[5 + i]);
          const untouched = dst[8] === 0xee && dst[9 + len] === 0xee;
          if (s !== naiveSum(src, 5, 5 + len) || !same || !untouched) failures++;
        }
      }
    }
  }
  t.equal(failures, 0);
});

t.test('copyBytes: across buffers, within one buffer (overlapping like memmove), within one array', async (t) => {
  const a = randomBytes(4096, 11);
  const b = new Uint8Array(4096);
  copyBytes(a, 3, b, 7, 3000);
  t.same(b.subarray(7, 3007), a.subarray(3, 3003));
  t.equal(b[6], 0);
  t.equal(b[3007], 0);

  const shared = randomBytes(8192, 12);
  const left = shared.subarray(0, 4096);
  const right = shared.subarray(100, 4196); // overlaps `left`
  const expected = shared.slice(0, 3000);
  copyBytes(left, 0, right, 0, 3000); // shared[100..3100) = old shared[0..3000)
  t.same(shared.subarray(100, 3100), expected, 'forward overlap behaves like memmove');

  for (const n of [5, 31, 32, 33]) {
    const small = randomBytes(100, n);
    const snapshot = small.slice();
    copyBytes(small.subarray(10, 60), 0, small.subarray(13, 70), 0, n); // two views, overlapping, destination after source
    t.same(small.subarray(13, 13 + n), snapshot.subarray(10, 10 + n), `overlapping views, ${n} bytes`);
  }

  const one = randomBytes(1000, 13);
  const before = one.slice();
  copyBytes(one, 10, one, 0, 500);
  t.same(one.subarray(0, 500), before.subarray(10, 510));

  // Shared memory, offsets that differ mod 8: apart (copied by the word loop)
  // and overlapping (memmove), both directions.
  for (const [from, to] of [[3, 2000], [2000, 3], [3, 700], [700, 3]]) {
    const mem = new Uint8Array(new SharedArrayBuffer(4096));
    mem.set(randomBytes(4096, from + to));
    const snapshot = mem.slice();
    copyBytes(mem, from, mem, to, 1500);
    t.same(mem.subarray(to, to + 1500), snapshot.subarray(from, from + 1500), `shared, ${from} -> ${to}, 1500 bytes`);
    const rest = (a: Uint8Array): number[] => [...a.subarray(0, to), ...a.subarray(to + 1500)];
    t.same(rest(mem), rest(snapshot), 'nothing else changed');
  }
});

t.test('native copies read the source as it is now (cached range views alias, never snapshot)', async (t) => {
  const src = randomBytes(8192, 21);
  const dst = new Uint8Array(new SharedArrayBuffer(8192));
  for (let round = 0; round < 3; round++) {
    src.fill(round, 1000, 2448);
    copyBytes(src, 1000, dst, 1000, 1448); // the same range every round: served from the cache after the first
    const sum = copyAndSum(src, 1000, dst, 3000, 1448);
    t.ok(dst.subarray(1000, 2448).every((b) => b === round), `round ${round}: copyBytes copied the current bytes`);
    t.ok(dst.subarray(3000, 4448).every((b) => b === round), `round ${round}: copyAndSum copied the current bytes`);
    t.equal(sum, naiveSum(src, 1000, 2448), `round ${round}: and summed them`);
  }
});
