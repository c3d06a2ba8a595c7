#!/usr/bin/env node
/**
 * Main-thread drain through the streams versus the C read loop, in the same
 * run (not part of `npm test`): the drain suite (../drain/drain-suite.mjs)
 * restricted by default to the streams consumers, `tun.readable` (a chunk per
 * packet), `tun.batches` (a chunk per batch), async iteration and `pipeTo`
 * (stream-drain.mjs). Targets (issue 5): batches >= 0.7, readable >= 0.5.
 *
 *   node bench/streams/drain.mjs [--reps 3] [--packets 262144] [--rx-slots 1024]
 *                                [--via readable,batches,iterate,pipe] [--json FILE]
 *
 * `node bench/drain/drain.mjs` runs every drainer (C, worker rings, batches,
 * readable, RxJS, koffi) in one run. Needs root and the built dist.
 */
import { drainCommand } from '../drain/drain-suite.mjs';

await drainCommand('readable,batches,iterate,pipe');
