/**
 * The CLI fuzz runner (the shared runner of @tunpipe/testkit on this suite):
 *   node examples/dist/cli/fuzz/run.js [--long] [--iterations N] [--seed S] [--target NAME]...
 * `pnpm fuzz` runs every package's suite (scripts/fuzz.mjs).
 */
import { runFuzzCli } from '@tunpipe/testkit';

process.exitCode = await runFuzzCli(process.argv.slice(2), [new URL('./suite.js', import.meta.url)]);
