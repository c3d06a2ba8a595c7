/**
 * The fuzz runner.
 *
 *   node packages/offload/dist/test/fuzz/run.js            short pass (3000 iterations per target)
 *   node packages/offload/dist/test/fuzz/run.js --long     100000 iterations per target (`pnpm fuzz`)
 *   options: --iterations N  --seed S  --target NAME (repeatable)  --from I  --parallel P  --stall-ms MS
 *
 * Replay one failing iteration: --target NAME --seed S --from I --iterations 1.
 * Exits 1 on any failure (undocumented error, broken invariant, hang) and prints
 * it as JSON, input bytes in hex.
 */
import { availableParallelism } from 'node:os';
import { fuzz } from './supervisor.js';
import { TARGETS } from './targets.js';

function parse(argv: string[]): { long: boolean; iterations?: number; seed: number; targets: string[]; from: number; parallel: number; stallMs: number } {
  const out = { long: false, iterations: undefined as number | undefined, seed: 0x7e57, targets: [] as string[], from: 0, parallel: availableParallelism(), stallMs: 15_000 };
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

const args = parse(process.argv.slice(2));
const iterations = args.iterations ?? (args.long ? 100_000 : 3_000);
const targets = args.targets.length > 0 ? args.targets : TARGETS.map((t) => t.name);
const started = performance.now();
console.log(`fuzz: ${targets.length} targets x ${iterations} iterations, seed ${args.seed}, ${args.parallel} workers`);
const result = await fuzz({
  targets,
  seed: args.seed,
  iterations,
  from: args.from,
  parallel: args.parallel,
  stallMs: args.stallMs,
  onReport: (r) => {
    const errors = Object.entries(r.errors)
      .map(([code, n]) => `${code.replace('ERR_TUN_', '')} ${n}`)
      .join(', ');
    console.log(`  ${r.target.padEnd(18)} ${r.iterations} iterations in ${(r.ms / 1000).toFixed(1)} s: ${r.ok} ok${errors ? `, ${errors}` : ''}`);
  },
});
for (const f of result.failures) console.error(`FAIL ${JSON.stringify(f, null, 1)}`);
const total = result.reports.reduce((n, r) => n + r.iterations, 0);
console.log(`fuzz: ${total} iterations, ${result.failures.length} failures, ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = result.failures.length > 0 ? 1 : 0;
