/**
 * Worker body of the fuzz supervisor: runs one target and posts its report or
 * its failure. Progress goes through the shared counter so the supervisor can
 * tell a slow iteration from a hung one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FuzzFailureError, runTarget, targetNamed } from './harness.js';

interface Job {
  target: string;
  seed: number;
  iterations: number;
  from: number;
  progress: SharedArrayBuffer;
}

const job = workerData as Job;
try {
  const report = runTarget(targetNamed(job.target), {
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
