/**
 * Runs one fuzz target for a number of iterations. Iteration i of a run with
 * seed S uses the generator seeded by (S, target, i), so one failing iteration
 * can be replayed alone. Progress is published in a shared counter for the
 * supervisor's watchdog. Targets may be synchronous (no await per iteration)
 * or return a promise.
 */
import { hashString, mixSeed, Prng } from './fuzz-prng.js';
import type { FuzzInput, FuzzSuite, FuzzTarget } from './fuzz-suite.js';

/** Counts of one target's run. */
export interface TargetReport {
  target: string;
  iterations: number;
  /** Iterations that completed without an error. */
  ok: number;
  /** Documented refusals, by code. */
  errors: Record<string, number>;
  ms: number;
}

/** A failed iteration: enough to replay it and to see the input. */
export interface FuzzFailure {
  target: string;
  seed: number;
  iteration: number;
  error: string;
  input: { hex?: string; batch?: string[]; note?: string };
}

/** Thrown by {@link runTarget} when an iteration breaks an invariant or throws an undocumented error. */
export class FuzzFailureError extends Error {
  override name = 'FuzzFailureError';
  constructor(readonly failure: FuzzFailure) {
    super(`${failure.target} iteration ${failure.iteration} (seed ${failure.seed}): ${failure.error}`);
  }
}

/** Finds a target of `suite` by name (hidden ones included). */
export function targetNamed<C>(suite: FuzzSuite<C>, name: string): FuzzTarget<C> {
  const t = [...suite.targets, ...(suite.hidden ?? [])].find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target ${name} in ${suite.name} (have: ${suite.targets.map((x) => x.name).join(', ')})`);
  return t;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}${'code' in err ? ` (${String(err.code)})` : ''}\n${err.stack ?? ''}` : String(err);
}

/** Runs `iterations` iterations from `from`; `progress[0]` counts them as they finish. */
export async function runTarget<C>(
  suite: FuzzSuite<C>,
  target: FuzzTarget<C>,
  options: { seed: number; iterations: number; from?: number; progress?: Int32Array },
): Promise<TargetReport> {
  const corpus = suite.loadCorpus();
  const report: TargetReport = { target: target.name, iterations: 0, ok: 0, errors: {}, ms: 0 };
  const started = performance.now();
  const from = options.from ?? 0;
  const targetHash = hashString(target.name);
  for (let i = from; i < from + options.iterations; i++) {
    const rng = new Prng(mixSeed(options.seed, targetHash, i));
    const input: FuzzInput = {};
    try {
      const pending = target.run(rng, corpus, input);
      if (pending !== undefined) await pending;
      report.ok++;
    } catch (err) {
      const code = suite.codeOf(err);
      if (code !== undefined && target.codes.includes(code)) {
        report.errors[code] = (report.errors[code] ?? 0) + 1;
      } else {
        throw new FuzzFailureError({
          target: target.name,
          seed: options.seed,
          iteration: i,
          error: describe(err),
          input: { hex: input.bytes ? hex(input.bytes) : undefined, batch: input.batch?.map(hex), note: input.note },
        });
      }
    }
    report.iterations++;
    if (options.progress) Atomics.store(options.progress, 0, report.iterations);
  }
  if (target.finish) {
    try {
      await target.finish();
    } catch (err) {
      throw new FuzzFailureError({ target: target.name, seed: options.seed, iteration: -1, error: `after the run: ${describe(err)}`, input: {} });
    }
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}
