/**
 * Sampling operators: keep a fraction of the packets, for captures and statistics
 * on links too fast to record whole.
 *
 * - `sampleEveryNth(n)`: the 1st, (n+1)th, (2n+1)th... packet: exact and periodic.
 * - `sampleProbability(p, { seed })`: each packet independently with probability p,
 *   from a seeded generator, so the same seed keeps the same packets of the same
 *   stream (reproducible captures).
 */
import { defer, filter, type MonoTypeOperatorFunction } from 'rxjs';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';
import { SeededRandom } from './seeded-random.js';

/** Keeps one item in `n`: the first, then every n-th after it. */
export function sampleEveryNth<T>(n: number): MonoTypeOperatorFunction<T> {
  if (!(Number.isSafeInteger(n) && n >= 1)) {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `sampleEveryNth: n must be an integer >= 1, got ${String(n)}`);
  }
  // State per subscription: every subscriber samples from its own first item.
  return (source) =>
    defer(() => {
      let i = 0;
      return source.pipe(filter(() => i++ % n === 0));
    });
}

/** Options of `sampleProbability()`. */
export interface SampleProbabilityOptions {
  /** Seed of the generator (default: a random seed, so runs differ). */
  seed?: number;
}

/** Keeps each item with probability `p` (0..1), drawn from a generator seeded with `seed`. */
export function sampleProbability<T>(p: number, options: SampleProbabilityOptions = {}): MonoTypeOperatorFunction<T> {
  if (!(p >= 0 && p <= 1)) {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `sampleProbability: p must be in 0..1, got ${String(p)}`);
  }
  const seed = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  return (source) =>
    defer(() => {
      const random = new SeededRandom(seed);
      return source.pipe(filter(() => random.next() < p));
    });
}
