/**
 * Which packet metadata the framed transport carries exactly.
 *
 * `meta` travels as one msgpack value (@msgpack/msgpack, default extension codec).
 * Some JavaScript values would be encoded without error yet come back different,
 * or not come back at all; the encoder refuses those up front
 * (ERR_TUN_FRAME_UNENCODABLE) so that every frame written reads back to the same
 * packet:
 *
 * | value                                   | msgpack would…                          |
 * |-----------------------------------------|-----------------------------------------|
 * | a map key `"__proto__"` (any depth)      | encode it; every decoder refuses it     |
 * | bigint outside int64 ∪ uint64            | fail deep in the encoder, or wrap       |
 * | `Date` holding NaN                       | encode garbage seconds                  |
 * | `Map`, `Set`                             | come back as a plain object / `{}`      |
 * | typed arrays other than `Uint8Array`     | come back as a `Uint8Array` of bytes    |
 *
 * Everything else msgpack represents natively (null, booleans, numbers, strings,
 * int64/uint64 bigints, `Uint8Array`, valid `Date`s, arrays, plain objects) is
 * accepted; functions and symbols are refused by the encoder itself.
 */

/** The msgpack encoder's default nesting limit; deeper values fail inside the encoder itself. */
const MAX_META_DEPTH = 100;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/** Why `meta` cannot travel in a frame unchanged, or undefined when it can. */
export function metaProblem(meta: unknown): string | undefined {
  return walk(meta, 0);
}

function walk(value: unknown, depth: number): string | undefined {
  if (typeof value === 'bigint') {
    return value < INT64_MIN || value > UINT64_MAX ? `bigint ${value} is outside the 64-bit integer range` : undefined;
  }
  if (typeof value !== 'object' || value === null || depth > MAX_META_DEPTH) return undefined;
  if (value instanceof Uint8Array) return undefined;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return `${value.constructor.name} would come back as a Uint8Array`;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date has no timestamp' : undefined;
  if (value instanceof Map || value instanceof Set) {
    return `a ${value.constructor.name} would come back as a plain object`;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = walk(item, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return 'a "__proto__" map key is refused by msgpack decoders';
    const problem = walk((value as Record<string, unknown>)[key], depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
