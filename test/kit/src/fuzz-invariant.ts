/**
 * The one way a fuzz target reports a broken invariant: a FuzzInvariantError,
 * which the runner counts as a failure (only a TunError with one of the
 * target's documented codes counts as a refusal).
 */

/** A violated invariant (as opposed to a documented refusal). */
export class FuzzInvariantError extends Error {
  override name = 'FuzzInvariantError';
}

/** Throws FuzzInvariantError(`message`) unless `condition` holds. */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new FuzzInvariantError(message);
}
