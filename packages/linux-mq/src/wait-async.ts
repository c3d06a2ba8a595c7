/**
 * `Atomics.waitAsync` (ES2024, in Node since 16). The workspace compiles against
 * ES2023's lib, so the signature is spelled out here once.
 */

/** The result of `Atomics.waitAsync`: settled at once, or a promise. */
export type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

/** `Atomics.waitAsync(ta, index, value, timeout)`: waits without blocking the thread. */
export const waitAsync = (Atomics as unknown as {
  waitAsync(ta: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult;
}).waitAsync;
