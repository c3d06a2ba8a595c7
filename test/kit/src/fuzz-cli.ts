/**
 * The fuzz command line shared by every package's runner:
 *
 *   [--long] [--iterations N] [--seed S] [--target NAME]... [--from I] [--parallel P] [--stall-ms MS]
 *
 * Short pass 3000 iterations per target, `--long` 100000. Replay one failing
 * iteration: --target NAME --seed S --from I --iterations 1. Prints one line per
 * target (iterations, iterations per second, refusals by code) and every failure
 * as JSON (input bytes in hex); resolves with the exit status (1 on any failure).
 */
import { availableParallelism } from 'node:os';
import { fuzz, suiteJobs } from './fuzz-supervisor.js';

/** Parsed fuzz command line. */
export interface FuzzCliArgs {
  long: boolean;
  iterations: number | undefined;
  seed: number;
  targets: string[];
  from: number;
  parallel: number;
  stallMs: number;
}

/** Parses the fuzz command line; throws on unknown options. */
export function parseFuzzArgs(argv: readonly string[]): FuzzCliArgs {
  const out: FuzzCliArgs = { long: false, iterations: undefined, seed: 0x7e57, targets: [], from: 0, parallel: availableParallelism(), stallMs: 15_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--long') out.long = true;
    else if (a === '--iterations') out.iterations = Number(value());
    else if (a === '--seed') out.seed = Number(value());
    else if (a === '--target') out.targets.push(value());
    else if (a === '--from') out.from = Number(value());
    else if (a === '--parallel') out.parallel = Number(value());
    else if (a === '--stall-ms') out.stallMs = Number(value());
    else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

/** Runs the targets of `suites` (module URLs) as `argv` says; resolves with the exit status. */
export async function runFuzzCli(argv: readonly string[], suites: readonly (URL | string)[]): Promise<number> {
  const args = parseFuzzArgs(argv);
  const iterations = args.iterations ?? (args.long ? 100_000 : 3_000);
  const jobs = (await Promise.all(suites.map((s) => suiteJobs(s, args.targets)))).flat();
  const unknown = args.targets.filter((name) => !jobs.some((j) => j.target === name));
  if (unknown.length > 0) {
    console.error(`fuzz: no target ${unknown.join(', ')}`);
    return 1;
  }
  const started = performance.now();
  console.log(`fuzz: ${jobs.length} targets x ${iterations} iterations, seed ${args.seed}, ${args.parallel} workers`);
  const result = await fuzz({
    jobs,
    seed: args.seed,
    iterations,
    from: args.from,
    parallel: args.parallel,
    stallMs: args.stallMs,
    onReport: (r) => {
      const errors = Object.entries(r.errors)
        .map(([code, n]) => `${code.replace('ERR_TUN_', '')} ${n}`)
        .join(', ');
      const rate = r.ms > 0 ? Math.round((r.iterations * 1000) / r.ms) : r.iterations;
      console.log(`  ${r.target.padEnd(20)} ${r.iterations} iterations in ${(r.ms / 1000).toFixed(1)} s (${rate}/s): ${r.ok} ok${errors ? `, ${errors}` : ''}`);
    },
  });
  for (const f of result.failures) console.error(`FAIL ${JSON.stringify(f, null, 1)}`);
  const total = result.reports.reduce((n, r) => n + r.iterations, 0);
  console.log(`fuzz: ${total} iterations, ${result.failures.length} failures, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result.failures.length > 0 ? 1 : 0;
}
