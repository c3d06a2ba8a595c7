// Shared timing for the offload micro-benchmarks: warm up, then time `runs` runs
// of at least `minMs` each and report the median rate.
import { performance } from 'node:perf_hooks';

/**
 * Calls `fn(iterations)` repeatedly; returns the median over `runs` runs of
 * `units * iterations / seconds` where `units` is what one iteration processes.
 */
export function medianRate(fn, units, { runs = 7, minMs = 150, warmupMs = 300 } = {}) {
  let iterations = 1;
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) fn(iterations);
  // Calibrate the iteration count to about minMs per run.
  for (;;) {
    const t0 = performance.now();
    fn(iterations);
    const dt = performance.now() - t0;
    if (dt >= minMs / 4) {
      iterations = Math.max(1, Math.ceil((iterations * minMs) / dt));
      break;
    }
    iterations *= 4;
  }
  const rates = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn(iterations);
    const seconds = (performance.now() - t0) / 1000;
    rates.push((units * iterations) / seconds);
  }
  rates.sort((a, b) => a - b);
  return { median: rates[Math.floor(rates.length / 2)], min: rates[0], max: rates[rates.length - 1], iterations, runs };
}

/** Rounds to 3 significant digits for the JSON line. */
export function round(x) {
  return Number(x.toPrecision(3));
}
