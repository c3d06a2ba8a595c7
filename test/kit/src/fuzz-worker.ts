/**
 * Worker body of the fuzz supervisor: imports a suite by URL, runs one target
 * and posts its report or its failure. Progress goes through the shared counter
 * so the supervisor can tell a slow iteration from a hung one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FuzzFailureError, runTarget, targetNamed } from './fuzz-harness.js';
import type { FuzzSuiteModule } from './fuzz-suite.js';

interface Job {
  suite: string;
  target: string;
  seed: number;
  iterations: number;
  from: number;
  progress: SharedArrayBuffer;
}

const job = workerData as Job;
try {
  const { SUITE } = (await import(job.suite)) as FuzzSuiteModule;
  const report = await runTarget(SUITE, targetNamed(SUITE, job.target), {
    seed: job.seed,
    iterations: job.iterations,
    from: job.from,
    progress: new Int32Array(job.progress),
  });
  parentPort!.postMessage({ kind: 'report', report });
} catch (err) {
  if (err instanceof FuzzFailureError) parentPort!.postMessage({ kind: 'failure', failure: err.failure });
  else parentPort!.postMessage({ kind: 'failure', failure: { target: job.target, seed: job.seed, iteration: -1, error: String(err), input: {} } });
}
