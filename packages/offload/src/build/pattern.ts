/**
 * Deterministic payload bytes for built packets: recognisable, different per
 * position and per seed, so a test can tell which bytes ended up where.
 */

/** `length` bytes of a pattern that depends on `seed` (byte i = (seed + i * 7 + (i >> 8)) & 0xff). */
export function patternBytes(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i * 7 + (i >> 8)) & 0xff;
  return out;
}

/** A payload option: the bytes themselves, or a length to fill with {@link patternBytes}. */
export type PayloadOption = Uint8Array | number;

/** Resolves a {@link PayloadOption} (a number becomes pattern bytes seeded by `seed`). */
export function payloadBytes(payload: PayloadOption | undefined, seed = 0): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === 'number' ? patternBytes(payload, seed) : payload;
}
