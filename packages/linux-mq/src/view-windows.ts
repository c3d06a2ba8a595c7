/**
 * Exact-length arrays, reused. Offload's batch functions (`handleVirtioRead`,
 * `handleGro`) and handlers take arrays whose length is the packet count; a ring
 * batch is a run of slots that may wrap around, so the worker fills one of these
 * with the slots' views instead of allocating an array per batch.
 */

/** Arrays of views, one cached array per length. */
export class ViewWindows {
  private readonly byLength: Uint8Array[][] = [];

  /** The array of length `n` (contents are whatever the previous user left). */
  get(n: number): Uint8Array[] {
    let a = this.byLength[n];
    if (a === undefined) {
      a = new Array<Uint8Array>(n);
      this.byLength[n] = a;
    }
    return a;
  }
}

/** Int32Array prefixes of one backing array, one cached view per length. */
export class Int32Windows {
  private readonly backing: Int32Array;
  private readonly byLength: Int32Array[] = [];

  /** Windows over a backing array of `capacity` elements. */
  constructor(capacity: number) {
    this.backing = new Int32Array(capacity);
  }

  /** The first `n` elements (shared memory with every other window). */
  get(n: number): Int32Array {
    let a = this.byLength[n];
    if (a === undefined) {
      a = this.backing.subarray(0, n);
      this.byLength[n] = a;
    }
    return a;
  }
}

/** Uint8Array prefixes of one backing array, one cached view per length. */
export class Uint8Windows {
  private readonly backing: Uint8Array;
  private readonly byLength: Uint8Array[] = [];

  /** Windows over a backing array of `capacity` elements. */
  constructor(capacity: number) {
    this.backing = new Uint8Array(capacity);
  }

  /** The first `n` elements (shared memory with every other window). */
  get(n: number): Uint8Array {
    let a = this.byLength[n];
    if (a === undefined) {
      a = this.backing.subarray(0, n);
      this.byLength[n] = a;
    }
    return a;
  }
}
