/**
 * The offload fuzz runner (the shared runner of @tunpipe/testkit on this suite):
 *
 *   node packages/offload/dist/test/fuzz/run.js            short pass (3000 iterations per target)
 *   node packages/offload/dist/test/fuzz/run.js --long     100000 iterations per target
 *   options: --iterations N  --seed S  --target NAME (repeatable)  --from I  --parallel P  --stall-ms MS
 *
 * `pnpm fuzz` runs every package's suite (scripts/fuzz.mjs). Replay one failing
 * iteration: --target NAME --seed S --from I --iterations 1.
 */
import { runFuzzCli } from '@tunpipe/testkit';

process.exitCode = await runFuzzCli(process.argv.slice(2), [new URL('./suite.js', import.meta.url)]);
