/**
 * The short fuzz pass inside `npm test`: every entry point (handleVirtioRead,
 * splitGso, handleGro, completeChecksum, every wire view constructor) for a few
 * thousand seeded iterations, in worker threads under the hang watchdog. The
 * long pass is `pnpm fuzz`.
 */
import t from 'tap';
import { fuzz, suiteJobs } from '@tunpipe/testkit';
import { TARGETS } from './fuzz/targets.js';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);
const SUITE_URL = new URL('./fuzz/suite.js', import.meta.url);

t.test(`every fuzz target survives ${ITERATIONS} seeded iterations`, async (t) => {
  const result = await fuzz({ jobs: await suiteJobs(SUITE_URL), seed: 20_251_122, iterations: ITERATIONS, parallel: 2, stallMs: 20_000 });
  for (const failure of result.failures) t.fail(`${failure.target} #${failure.iteration}: ${failure.error}`, { input: failure.input });
  t.equal(result.failures.length, 0, 'no failures');
  t.equal(result.reports.length, TARGETS.length, 'every target reported');
  for (const report of result.reports) {
    t.equal(report.iterations, ITERATIONS, `${report.target}: ${report.ok} ok, errors ${JSON.stringify(report.errors)}`);
    // Each target must reach both outcomes, or the generator is not doing its job.
    if (report.target !== 'handleGro') t.ok(Object.keys(report.errors).length > 0, `${report.target}: some inputs are refused`);
    t.ok(report.ok > 0, `${report.target}: some inputs are accepted`);
  }
});

t.test('the watchdog turns a hang into a reported failure', async (t) => {
  const started = performance.now();
  const result = await fuzz({ jobs: [{ suite: SUITE_URL, target: 'selftest-hang' }], seed: 1, iterations: 10, stallMs: 1_000 });
  t.equal(result.failures.length, 1);
  t.match(result.failures[0].error, /^hang: no progress for 1000 ms/);
  t.equal(result.failures[0].iteration, 0, 'names the iteration to replay');
  t.ok(performance.now() - started < 10_000, 'and does not wait for it');
});

t.test('an unknown target is reported, not thrown', async (t) => {
  const result = await fuzz({ jobs: [{ suite: SUITE_URL, target: 'no-such-target' }], seed: 1, iterations: 1 });
  t.equal(result.failures.length, 1);
  t.match(result.failures[0].error, /no fuzz target/);
});
