/**
 * Runs one fuzz target for a number of iterations. Iteration i of a run with
 * seed S uses the generator seeded by (S, target, i), so one failing iteration
 * can be replayed alone. Progress is published in a shared counter for the
 * supervisor's watchdog.
 */
import { toHex } from './mutate.js';
import { hashString, mixSeed, Prng } from './prng.js';
import { loadCorpus } from './seeds.js';
import { HANG_SELF_TEST, isDocumentedError, TARGETS, type FuzzInput, type FuzzTarget } from './targets.js';

/** Counts of one target's run. */
export interface TargetReport {
  target: string;
  iterations: number;
  /** Iterations that completed without an error. */
  ok: number;
  /** Documented TunErrors, by code. */
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

/** Finds a target by name. */
export function targetNamed(name: string): FuzzTarget {
  const t = [...TARGETS, HANG_SELF_TEST].find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target ${name} (have: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}

/** Runs `iterations` iterations from `from`; `progress[0]` counts them as they finish. */
export function runTarget(target: FuzzTarget, options: { seed: number; iterations: number; from?: number; progress?: Int32Array }): TargetReport {
  const corpus = loadCorpus();
  const report: TargetReport = { target: target.name, iterations: 0, ok: 0, errors: {}, ms: 0 };
  const started = performance.now();
  const from = options.from ?? 0;
  const targetHash = hashString(target.name);
  for (let i = from; i < from + options.iterations; i++) {
    const rng = new Prng(mixSeed(options.seed, targetHash, i));
    const input: FuzzInput = {};
    try {
      target.run(rng, corpus, input);
      report.ok++;
    } catch (err) {
      if (isDocumentedError(target, err)) {
        const code = (err as { code: string }).code;
        report.errors[code] = (report.errors[code] ?? 0) + 1;
      } else {
        throw new FuzzFailureError({
          target: target.name,
          seed: options.seed,
          iteration: i,
          error: err instanceof Error ? `${err.name}: ${err.message}${'code' in err ? ` (${String(err.code)})` : ''}\n${err.stack ?? ''}` : String(err),
          input: {
            hex: input.bytes ? toHex(input.bytes) : undefined,
            batch: input.batch?.map(toHex),
            note: input.note,
          },
        });
      }
    }
    report.iterations++;
    if (options.progress) Atomics.store(options.progress, 0, report.iterations);
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}
