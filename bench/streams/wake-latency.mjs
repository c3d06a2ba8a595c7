#!/usr/bin/env node
/**
 * How long the main thread takes to wake when a worker signals it (not part of
 * `npm test`): the latency every device consumer pays when it caught up with
 * the rings and slept, once per crossing of a relay through the main thread.
 * A worker waits until the main thread sleeps, idles GAP ms, stamps the time
 * and signals; the main thread measures from the stamp to running again.
 *
 *   node bench/streams/wake-latency.mjs [--via waitAsync,postMessage] [--rounds 300] [--gap 3]
 *
 * waitAsync: `Atomics.waitAsync` / `Atomics.notify` (linux-mq's doorbell);
 * postMessage: a MessagePort message. Prints min/p50/p90/p99 in microseconds.
 * The worker busy-waits (it holds one CPU), so the main thread competes for
 * the others, as it does beside busy queue workers.
 */
import { Worker, MessageChannel } from 'node:worker_threads';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    via: { type: 'string', default: 'waitAsync,postMessage' },
    rounds: { type: 'string', default: '300' },
    gap: { type: 'string', default: '3' },
  },
});
const ROUNDS = Number(values.rounds);
const GAP = Number(values.gap);

const WORKER = `
const { workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { sab, port, via, rounds, gap } = workerData;
const w32 = new Int32Array(sab, 0, 2);
const stamp = new Float64Array(sab, 8, 1);
for (let i = 0; i < rounds; i++) {
  while (Atomics.load(w32, 1) !== 1) {}
  Atomics.store(w32, 1, 0);
  const until = Date.now() + gap;
  while (Date.now() < until) {}
  stamp[0] = performance.timeOrigin + performance.now();
  if (via === 'waitAsync') { Atomics.add(w32, 0, 1); Atomics.notify(w32, 0); } else port.postMessage(0);
}
`;

async function measure(via) {
  const sab = new SharedArrayBuffer(16);
  const w32 = new Int32Array(sab, 0, 2);
  const stamp = new Float64Array(sab, 8, 1);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER, { eval: true, workerData: { sab, port: port2, via, rounds: ROUNDS, gap: GAP }, transferList: [port2] });
  let resolve = () => undefined;
  port1.on('message', () => resolve());
  const delays = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (via === 'waitAsync') {
      const r = Atomics.waitAsync(w32, 0, Atomics.load(w32, 0));
      Atomics.store(w32, 1, 1);
      if (r.async) await r.value;
    } else {
      const p = new Promise((r) => (resolve = r));
      Atomics.store(w32, 1, 1);
      await p;
    }
    delays.push((performance.timeOrigin + performance.now() - stamp[0]) * 1000);
  }
  port1.close();
  await worker.terminate();
  delays.sort((a, b) => a - b);
  const at = (q) => delays[Math.min(delays.length - 1, Math.floor(delays.length * q))].toFixed(0);
  console.log(`${via.padEnd(12)} wake: min ${at(0)}  p50 ${at(0.5)}  p90 ${at(0.9)}  p99 ${at(0.99)} us (${ROUNDS} rounds)`);
}

for (const via of values.via.split(',')) await measure(via);
