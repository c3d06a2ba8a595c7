/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same
 * fault schedule, packet sizes and TCP seeds on every run, so a failing soak can
 * be replayed with `--seed N`.
 */

/** Deterministic 32-bit generator with a few drawing helpers. */
export class Prng {
  private state: number;

  /** A generator seeded with `seed` (any integer; only the low 32 bits count). */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Next raw 32-bit value. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `items` in a seeded random order (a new array). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
