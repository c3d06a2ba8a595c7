/**
 * Output buffers carved from one ArrayBuffer, each with guard regions before and
 * after it filled with a canary pattern: after a call, `intact()` tells whether
 * anything was written outside the buffers it was given.
 *
 * ```
 * | guard | buf 0 (capacity) | guard | buf 1 (capacity) | guard | ...
 * ```
 */

const CANARY = 0xa5;

/** A set of canary-guarded buffers. */
export class GuardedBuffers {
  /** The buffers handed to the code under test. */
  readonly bufs: Uint8Array[];
  /** The whole backing array, guards included. */
  readonly backing: Uint8Array;
  private readonly guard: number;
  private readonly capacities: number[];

  /** `capacities[i]` bytes for buffer i, `guard` canary bytes around each. */
  constructor(capacities: readonly number[], guard = 32, shared = false) {
    this.guard = guard;
    this.capacities = [...capacities];
    const total = guard + capacities.reduce((a, c) => a + c + guard, 0);
    this.backing = new Uint8Array(shared ? new SharedArrayBuffer(total) : new ArrayBuffer(total));
    this.backing.fill(CANARY);
    this.bufs = [];
    let at = guard;
    for (const c of capacities) {
      const buf = this.backing.subarray(at, at + c);
      buf.fill(0);
      this.bufs.push(buf);
      at += c + guard;
    }
  }

  /** `count` buffers of `capacity` bytes each. */
  static uniform(count: number, capacity: number, guard = 32, shared = false): GuardedBuffers {
    return new GuardedBuffers(Array.from({ length: count }, () => capacity), guard, shared);
  }

  /** True when every guard byte still holds the canary. */
  intact(): boolean {
    const b = this.backing;
    let at = 0;
    for (let i = 0; i <= this.capacities.length; i++) {
      for (let k = at; k < at + this.guard; k++) if (b[k] !== CANARY) return false;
      at += this.guard + (this.capacities[i] ?? 0);
    }
    return true;
  }

  /** A copy of every buffer's bytes (to check later that nothing changed). */
  snapshot(): Uint8Array[] {
    return this.bufs.map((b) => b.slice());
  }
}
