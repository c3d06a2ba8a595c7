#!/usr/bin/env node
/**
 * The drain suite's command (not part of `npm test`): 256k queued 64-byte
 * packets read off a TUN device by the C read loop, linux-mq's worker rings,
 * the streams consumers (`batches`, `readable`), RxJS (`packets$`) and a bare
 * koffi loop, alternately in each repetition, with medians, min-max and the
 * ratio of each to the C loop of the same run. How: drain-suite.mjs.
 *
 *   node bench/drain/drain.mjs [--reps 3] [--packets 262144] [--rx-slots 1024]
 *                              [--via c,worker,worker-syscall,batches,readable,rxjs,koffi] [--json FILE]
 *
 * (`iterate` and `pipe` are two more streams consumers, off by default.)
 * Needs root and the built dist (`pnpm exec tsc -b`).
 */
import { drainCommand } from './drain-suite.mjs';

await drainCommand('c,worker,worker-syscall,batches,readable,rxjs,koffi');
