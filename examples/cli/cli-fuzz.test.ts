/**
 * The short CLI fuzz pass inside `npm test`: random and mutated command lines
 * through the parser and every command's plan step (a few thousand seeded
 * iterations, in a worker under the hang watchdog; the long pass is `pnpm fuzz`).
 * Each ends as a plan, help/version, or a one-line coded usage error; the target
 * itself checks afterwards that no link a command line named appeared and no
 * /dev/net/tun fd was opened.
 */
import t from 'tap';
import { fuzz, suiteJobs } from '@tunpipe/testkit';
import { USAGE_CODES } from './fuzz/targets.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);

t.test(`random command lines: ${ITERATIONS} seeded iterations`, async (t) => {
  const result = await fuzz({ jobs: await suiteJobs(new URL('./fuzz/suite.js', import.meta.url)), seed: 20_261_122, iterations: ITERATIONS, parallel: 1, stallMs: 20_000 });
  for (const failure of result.failures) t.fail(`${failure.target} #${failure.iteration}: ${failure.error}`, { input: failure.input });
  t.equal(result.failures.length, 0, 'no failures');
  const report = result.reports[0];
  t.ok(report, 'the target reported');
  if (!report) return;
  t.equal(report.iterations, ITERATIONS);
  t.ok(report.ok > ITERATIONS / 10, `${report.ok} command lines planned`);
  // The generator must reach the refusals that matter, or it is not doing its job.
  for (const code of ['ERR_TUN_USAGE', 'ERR_TUN_UNKNOWN_OPTION', 'ERR_TUN_UNKNOWN_COMMAND', 'ERR_TUN_INVALID_NAME', 'ERR_TUN_INVALID_PREFIX', 'ERR_TUN_INVALID_ARGUMENT']) {
    t.ok((report.errors[code] ?? 0) > 0, `reaches ${code} (${report.errors[code] ?? 0})`);
  }
  t.ok(Object.keys(report.errors).every((code) => USAGE_CODES.includes(code)), `only usage codes: ${JSON.stringify(report.errors)}`);
});
