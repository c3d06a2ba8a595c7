/** Network byte order (big-endian) reads and writes of 16- and 32-bit fields in a Uint8Array. */

/** Reads a big-endian u16. */
export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

/** Reads a big-endian u32 (as a non-negative number). */
export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * Reads a big-endian 32-bit field as a signed int32 (same bits as readU32).
 * Hot paths use it for sequence numbers: an int32 stays a small integer in V8,
 * while a uint32 above 2^31 becomes a heap-allocated number whenever it crosses
 * a function call that is not inlined.
 */
export function readI32(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
}

/** Writes a big-endian u16 (the low 16 bits of `value`). */
export function writeU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 8;
  bytes[at + 1] = value;
}

/** Writes a big-endian u32 (the low 32 bits of `value`). */
export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}
