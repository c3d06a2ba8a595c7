/**
 * `SeededRandom`: a small deterministic pseudo-random generator for sampling, so
 * that a sampled capture can be reproduced from its seed. xorshift32 (Marsaglia,
 * "Xorshift RNGs", 2003) over a state derived from the seed by a 32-bit finalizer
 * mix, so that nearby seeds give unrelated sequences. Not for cryptography.
 */
export class SeededRandom {
  private state: number;

  /** A generator whose sequence is fixed by `seed` (any integer). */
  constructor(seed: number) {
    let s = (Math.trunc(seed) ^ 0x9e3779b9) | 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35);
    s ^= s >>> 16;
    this.state = s === 0 ? 0x6d2b79f5 : s; // xorshift must not start at 0
  }

  /** The next value in [0, 2^32). */
  nextUint32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x >>> 0;
  }

  /** The next value in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }
}
