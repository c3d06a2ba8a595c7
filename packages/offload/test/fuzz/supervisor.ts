/**
 * Runs fuzz targets in worker threads, a few at a time, each under a watchdog:
 * a target whose iteration counter stops moving for `stallMs` is a hang; its
 * worker is terminated and the hang reported with the iteration to replay.
 */
import { Worker } from 'node:worker_threads';
import type { FuzzFailure, TargetReport } from './harness.js';

/** How to run. */
export interface FuzzOptions {
  targets: readonly string[];
  seed: number;
  iterations: number;
  /** First iteration (for replaying one). */
  from?: number;
  /** Workers running at once. */
  parallel?: number;
  /** No progress for this long is a hang. */
  stallMs?: number;
  /** Called with each finished report. */
  onReport?: (report: TargetReport) => void;
}

/** Everything a run produced. */
export interface FuzzResult {
  reports: TargetReport[];
  failures: FuzzFailure[];
}

function runOne(target: string, options: FuzzOptions): Promise<TargetReport | FuzzFailure> {
  const progress = new SharedArrayBuffer(4);
  const counter = new Int32Array(progress);
  const from = options.from ?? 0;
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: { target, seed: options.seed, iterations: options.iterations, from, progress },
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
      resolve(value);
    };
    const watchdog = setInterval(() => {
      const now = Atomics.load(counter, 0);
      if (now !== last) {
        last = now;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > stallMs) {
        void worker.terminate();
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

/** Runs every target of `options`; resolves when all are done. */
export async function fuzz(options: FuzzOptions): Promise<FuzzResult> {
  const queue = [...options.targets];
  const result: FuzzResult = { reports: [], failures: [] };
  const lane = async () => {
    for (let target = queue.shift(); target !== undefined; target = queue.shift()) {
      const outcome = await runOne(target, options);
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
