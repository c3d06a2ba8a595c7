/**
 * Runs fuzz targets in worker threads, a few at a time, each under a watchdog:
 * a target whose iteration counter stops moving for `stallMs` is a hang; its
 * worker is terminated and the hang reported with the iteration to replay.
 */
import { Worker } from 'node:worker_threads';
import type { FuzzFailure, TargetReport } from './fuzz-harness.js';

/** One target of one suite module. */
export interface FuzzJob {
  /** URL of the suite module (exports `SUITE`). */
  suite: URL | string;
  target: string;
}

/** How to run. */
export interface FuzzOptions {
  jobs: readonly FuzzJob[];
  seed: number;
  iterations: number;
  /** First iteration (for replaying one). */
  from?: number;
  /** Workers running at once. */
  parallel?: number;
  /** No progress for this long is a hang. */
  stallMs?: number;
  /** Heap limit of each worker, MiB (a runaway allocation ends that worker, reported, not the run). Default 2048. */
  maxHeapMb?: number;
  /** Called with each finished report. */
  onReport?: (report: TargetReport) => void;
}

/** Everything a run produced. */
export interface FuzzResult {
  reports: TargetReport[];
  failures: FuzzFailure[];
}

function runOne(job: FuzzJob, options: FuzzOptions): Promise<TargetReport | FuzzFailure> {
  const { target } = job;
  const progress = new SharedArrayBuffer(4);
  const counter = new Int32Array(progress);
  const from = options.from ?? 0;
  const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), {
    workerData: { suite: String(job.suite), target, seed: options.seed, iterations: options.iterations, from, progress },
    resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 2048 },
  });
  const stallMs = options.stallMs ?? 10_000;
  return new Promise((resolve) => {
    let last = -1;
    let lastChange = performance.now();
    let settled = false;
    const finish = (value: TargetReport | FuzzFailure) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      // A target may leave handles behind (timers, streams): the worker is done either way.
      void worker.terminate();
      resolve(value);
    };
    const watchdog = setInterval(() => {
      const now = Atomics.load(counter, 0);
      if (now !== last) {
        last = now;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > stallMs) {
        finish({ target, seed: options.seed, iteration: from + now, error: `hang: no progress for ${stallMs} ms`, input: {} });
      }
    }, 250);
    worker.on('message', (m: { kind: 'report'; report: TargetReport } | { kind: 'failure'; failure: FuzzFailure }) => {
      finish(m.kind === 'report' ? m.report : m.failure);
    });
    worker.on('error', (err) => finish({ target, seed: options.seed, iteration: -1, error: `worker error: ${err}`, input: {} }));
    worker.on('exit', (code) => finish({ target, seed: options.seed, iteration: -1, error: `worker exited (${code}) without a report`, input: {} }));
  });
}

/** Runs every job of `options`; resolves when all are done. */
export async function fuzz(options: FuzzOptions): Promise<FuzzResult> {
  const queue = [...options.jobs];
  const result: FuzzResult = { reports: [], failures: [] };
  const lane = async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const outcome = await runOne(job, options);
      if ('error' in outcome) result.failures.push(outcome);
      else {
        result.reports.push(outcome);
        options.onReport?.(outcome);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 2) }, lane));
  return result;
}

/** The jobs for every (non-hidden) target of the suite at `suite`, or only those named. */
export async function suiteJobs(suite: URL | string, only: readonly string[] = []): Promise<FuzzJob[]> {
  const { SUITE } = (await import(String(suite))) as { SUITE: { targets: readonly { name: string }[] } };
  return SUITE.targets.filter((t) => only.length === 0 || only.includes(t.name)).map((t) => ({ suite, target: t.name }));
}
