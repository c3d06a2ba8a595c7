/**
 * Argument validation shared by the public functions: every failure is a
 * TunError with code ERR_TUN_INVALID_ARGUMENT, thrown before anything is written.
 */
import { invalidArgument } from './error-codes.js';

/** Throws unless `start..end` is an integer range inside an array of `length` elements. */
export function checkRange(length: number, start: number, end: number, what: string): void {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= length)) {
    throw invalidArgument(`${what}: range [${start}, ${end}) is not inside 0..${length}`);
  }
}

/** Throws unless `bytes` is a Uint8Array and `[offset, offset + length)` lies inside it. */
export function checkViewBounds(bytes: Uint8Array, offset: number, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument(`${what}: bytes must be a Uint8Array`);
  checkRange(bytes.length, offset, offset + length, what);
}

/** Throws unless `value` is an integer in `0..max` (a header field about to be written). */
export function checkField(value: number, max: number, what: string): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= max)) {
    throw invalidArgument(`${what} must be an integer in 0..${max}, got ${value}`);
  }
}

/** Throws unless `offset` is a non-negative integer (a position inside every buffer of a batch). */
export function checkOffset(offset: number, what: string): void {
  if (!(Number.isInteger(offset) && offset >= 0)) {
    throw invalidArgument(`${what}: offset must be a non-negative integer, got ${offset}`);
  }
}
