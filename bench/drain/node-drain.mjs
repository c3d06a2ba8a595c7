#!/usr/bin/env node
/**
 * The tunpipe side of the drain benchmark (run by drain.mjs inside its namespace):
 * creates TUN IFNAME (no offload), prints READY, waits for `go N` on stdin (N
 * packets are then queued in the kernel), opens one queue with
 * @tunpipe/linux-mq, and consumes batches on the main thread (count, release)
 * until N packets arrived. The rate is taken from the first batch to the last,
 * so worker start-up is not counted (as the C loop starts its clock at its
 * first read). READS is the `reads` option of openQueues ('auto', 'io_uring',
 * 'syscall'; default 'auto'). Over the same interval it takes the CPU time of the
 * worker thread (/proc/self/task/TID/schedstat, ns) and of the whole process
 * (process.cpuUsage: worker + consuming main thread), per packet.
 * Prints {"packets":N,"seconds":S,"pps":P,"batches":B,"reads":PATH,"workerNsPerPacket":W,...}.
 *
 *   node node-drain.mjs IFNAME COUNT [RX_SLOTS] [READS]
 */
import { readFileSync } from 'node:fs';
import { openQueues } from '@tunpipe/linux-mq';
import { drainerHandshake } from './drainer-handshake.mjs';

const [name, countText, slotsText, readsText] = process.argv.slice(2);
const { device, count } = await drainerHandshake('node-drain', name, Number(countText));

const set = await openQueues({ devices: [device], rxSlots: Number(slotsText ?? 1024), reads: readsText ?? 'auto' });
const reader = set.reader(0);
const [worker] = set.workers();
/** CPU time of the worker thread so far, ns (first field of schedstat). */
const workerCpuNs = () => Number(readFileSync(`/proc/self/task/${worker.tid}/schedstat`, 'utf8').split(' ')[0]);
let w0 = 0;
let w1 = 0;
let c0 = process.cpuUsage();
let c1 = c0;
let n = 0;
let first = 0;
let t0 = 0;
let t1 = 0;
let batches = 0;
const signal = AbortSignal.timeout(30_000);
while (n < count) {
  // Synchronous fast path while batches are ready; wait only when the rings are empty.
  const b = reader.tryRead() ?? (await reader.read({ signal }).catch(() => null));
  if (b === null) break;
  if (batches === 0) {
    t0 = performance.now();
    w0 = workerCpuNs();
    c0 = process.cpuUsage();
    first = b.count;
  }
  batches++;
  n += b.count;
  t1 = performance.now();
  b.release();
}
w1 = workerCpuNs();
c1 = process.cpuUsage(c0);
const seconds = (t1 - t0) / 1000;
const totals = set.totals(0);
await set.close();
process.stdout.write(JSON.stringify({
  packets: n,
  seconds,
  pps: Math.round((n - first) / seconds),
  batches,
  workerBatches: totals.rxBatches,
  wakeups: totals.wakeups,
  ringFull: totals.ringFull,
  reads: worker.reads,
  workerNsPerPacket: Math.round((w1 - w0) / (n - first)),
  processNsPerPacket: Math.round(((c1.user + c1.system) * 1000) / (n - first)),
}) + '\n');
