/**
 * Sampling: every n-th exactly; probability sampling reproducible by seed, close to
 * p, different across seeds; the generator itself.
 */
import t from 'tap';
import { from, lastValueFrom, range, toArray } from 'rxjs';
import { sampleEveryNth, sampleProbability } from '../src/packet-sampling.js';
import { SeededRandom } from '../src/seeded-random.js';

const collect = <T>(o: import('rxjs').Observable<T>) => lastValueFrom(o.pipe(toArray()));

t.test('sampleEveryNth keeps the first and then every n-th, per subscription', async (t) => {
  t.same(await collect(range(0, 10).pipe(sampleEveryNth(3))), [0, 3, 6, 9]);
  t.same(await collect(range(0, 4).pipe(sampleEveryNth(1))), [0, 1, 2, 3]);
  const sampled = range(0, 5).pipe(sampleEveryNth(2));
  t.same([await collect(sampled), await collect(sampled)], [[0, 2, 4], [0, 2, 4]], 'each subscriber starts afresh');
  t.throws(() => sampleEveryNth(0), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => sampleEveryNth(1.5), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});

t.test('sampleProbability: same seed, same packets; rate near p; other seeds differ', async (t) => {
  const n = 20_000;
  const a = await collect(range(0, n).pipe(sampleProbability(0.1, { seed: 42 })));
  const b = await collect(range(0, n).pipe(sampleProbability(0.1, { seed: 42 })));
  const c = await collect(range(0, n).pipe(sampleProbability(0.1, { seed: 43 })));
  t.same(a, b, 'reproducible');
  t.not(JSON.stringify(a), JSON.stringify(c), 'another seed keeps other packets');
  // Binomial(20000, 0.1): sd ~42; allow 5 sd.
  t.ok(Math.abs(a.length - 2000) < 210, `kept ${a.length} of ${n}`);
  t.same(await collect(from([1, 2, 3]).pipe(sampleProbability(0, { seed: 1 }))), []);
  t.same(await collect(from([1, 2, 3]).pipe(sampleProbability(1, { seed: 1 }))), [1, 2, 3]);
  t.throws(() => sampleProbability(1.1), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => sampleProbability(Number.NaN), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});

t.test('SeededRandom: deterministic, in range, roughly uniform, seeds 0 and 1 unrelated', async (t) => {
  const r = new SeededRandom(0);
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const x = r.next();
    if (!(x >= 0 && x < 1)) t.fail(`out of range: ${x}`);
    buckets[Math.floor(x * 10)]!++;
  }
  t.ok(buckets.every((b) => Math.abs(b - 10_000) < 500), `buckets ${buckets.join(' ')}`);
  const first = (seed: number) => Array.from({ length: 4 }, ((g) => () => g.nextUint32())(new SeededRandom(seed)));
  t.same(first(7), first(7));
  t.not(first(0)[0], first(1)[0]);
});
