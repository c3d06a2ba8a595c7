/**
 * "No hang": every operation of the soak runs under a deadline. `Deadlines`
 * wraps a promise, rejects when it takes longer than its bound, and keeps the
 * slowest time per operation for the report.
 */

/** Thrown when an operation outlives its bound. */
export class HangError extends Error {
  /** The operation's label. */
  readonly label: string;

  /** A hang of `label` after `ms`. */
  constructor(label: string, ms: number) {
    super(`soak: ${label} did not finish within ${ms} ms`);
    this.name = 'HangError';
    this.label = label;
  }
}

/** Bounded operations and their slowest observed durations. */
export class Deadlines {
  /** Slowest duration (ms) and count per label. */
  readonly slowest = new Map<string, { ms: number; bound: number; count: number }>();

  /** Resolves as `work` does, or rejects with HangError after `ms`. */
  async within<T>(label: string, ms: number, work: Promise<T> | (() => Promise<T>)): Promise<T> {
    const start = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const p = typeof work === 'function' ? work() : work;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new HangError(label, ms)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      const took = performance.now() - start;
      const prev = this.slowest.get(label);
      this.slowest.set(label, { ms: Math.max(prev?.ms ?? 0, took), bound: ms, count: (prev?.count ?? 0) + 1 });
    }
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
