#!/usr/bin/env node
/**
 * The tunpipe side of the drain benchmark (run by drain.mjs inside its namespace):
 * creates TUN IFNAME (no offload), prints READY, waits for `go N` on stdin (N
 * packets are then queued in the kernel), opens one queue with
 * @tunpipe/linux-mq, and consumes batches on the main thread (count, release)
 * until N packets arrived. The rate is taken from the first batch to the last,
 * so worker start-up is not counted (as the C loop starts its clock at its
 * first read). Prints {"packets":N,"seconds":S,"pps":P,"batches":B,...}.
 *
 *   node node-drain.mjs IFNAME COUNT [RX_SLOTS]
 */
import { openQueues } from '@tunpipe/linux-mq';
import { drainerHandshake } from './drainer-handshake.mjs';

const [name, countText, slotsText] = process.argv.slice(2);
const { device, count } = await drainerHandshake('node-drain', name, Number(countText));

const set = await openQueues({ devices: [device], rxSlots: Number(slotsText ?? 1024) });
const reader = set.reader(0);
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
    first = b.count;
  }
  batches++;
  n += b.count;
  t1 = performance.now();
  b.release();
}
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
}) + '\n');
