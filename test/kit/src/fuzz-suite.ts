/**
 * What a package's fuzz suite is: named targets (entry points under test), the
 * seed corpus they mutate, and the errors that count as a documented refusal.
 * A suite lives in a module (`<package>/dist/test/fuzz/suite.js`) exporting
 * `SUITE`; the supervisor's worker threads import it by URL.
 */
import type { Prng } from './fuzz-prng.js';

/** What the last iteration fed the code under test (for failure reports). */
export interface FuzzInput {
  /** One byte input (reported in hex). */
  bytes?: Uint8Array;
  /** Several byte inputs (reported in hex). */
  batch?: Uint8Array[];
  /** Anything else worth printing (argv, options as JSON). */
  note?: string;
}

/** One entry point. */
export interface FuzzTarget<C = unknown> {
  /** Name used on the command line and in reports (unique across suites). */
  readonly name: string;
  /** Error codes this entry point may throw for bad input. */
  readonly codes: readonly string[];
  /** Runs one iteration; records its input in `input`; throws on a violated invariant. */
  run(rng: Prng, corpus: C, input: FuzzInput): void | Promise<void>;
  /** Checked once after the last iteration (e.g. nothing leaked); throws on a violation. */
  finish?(): void | Promise<void>;
}

/** A package's fuzz targets and corpus. */
export interface FuzzSuite<C = unknown> {
  /** The package (`offload`, `streams`, `cli`). */
  readonly name: string;
  /** Targets a full run covers, in a stable order. */
  readonly targets: readonly FuzzTarget<C>[];
  /** Targets runnable by name only (harness self-tests). */
  readonly hidden?: readonly FuzzTarget<C>[];
  /** Loads the seed corpus (once per worker). */
  loadCorpus(): C;
  /** The code of `err` when it is a documented, coded refusal (a TunError); else undefined. */
  codeOf(err: unknown): string | undefined;
}

/** The module shape a suite URL must have. */
export interface FuzzSuiteModule {
  SUITE: FuzzSuite;
}
