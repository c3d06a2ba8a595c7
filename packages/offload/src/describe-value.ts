/**
 * How an error message shows a value it refuses: strings quoted, bigints with
 * their `n`, functions, arrays and objects by kind only (never their contents,
 * which may be large, hostile or throw when converted).
 */

/** A refused value as error messages show it; never throws (symbols, null-prototype objects, revoked proxies). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** Array.isArray, which throws on a revoked proxy. */
function isArray(value: object): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}
