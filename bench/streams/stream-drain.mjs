#!/usr/bin/env node
/**
 * The streams side of the drain benchmark (run by bench/streams/drain.mjs inside
 * its namespace; same protocol as bench/drain's drainers): creates TUN IFNAME
 * (no offload), prints READY, waits for `go N` on stdin (N packets are then
 * queued in the kernel), opens it with `openTun({ device })` and consumes N
 * packets on the main thread through one consumer:
 *
 *   readable  tun.readable.getReader(), read() until N packets (a chunk per packet)
 *   batches   tun.batches.getReader(), read() until N packets (a chunk per batch)
 *   iterate   for await (const packet of tun)
 *   pipe      tun.readable.pipeTo(a counting WritableStream)
 *   rxjs      a subscription to tun.packets$
 *
 * The rate is taken from the first packet to the last (worker start-up is not
 * counted, as the C loop starts its clock at its first read). Prints
 * {"packets":N,"seconds":S,"pps":P,"bytes":B,...}.
 *
 *   node stream-drain.mjs IFNAME COUNT readable|batches|iterate|pipe|rxjs [RX_SLOTS]
 */
import { openTun } from '../../packages/streams/dist/src/index.js';
import { drainerHandshake } from '../drain/drainer-handshake.mjs';

const [name, countText, via, slotsText] = process.argv.slice(2);
const { device, count } = await drainerHandshake(`stream-drain ${via}`, name, Number(countText));

const tun = await openTun({ device, rxSlots: Number(slotsText ?? 1024) });
let n = 0;
let bytes = 0;
let t0 = 0;
let t1 = 0;
let chunks = 0;
const first = () => {
  if (t0 === 0) t0 = performance.now();
};

if (via === 'readable') {
  const reader = tun.readable.getReader();
  while (n < count) {
    const { value, done } = await reader.read();
    if (done) break;
    first();
    n++;
    chunks++;
    bytes += value.data.length;
  }
  t1 = performance.now();
  await reader.cancel();
} else if (via === 'batches') {
  const reader = tun.batches.getReader();
  while (n < count) {
    const { value, done } = await reader.read();
    if (done) break;
    first();
    chunks++;
    n += value.count;
    for (let i = 0; i < value.count; i++) bytes += value.length(i);
  }
  t1 = performance.now();
  await reader.cancel();
} else if (via === 'iterate') {
  for await (const p of tun) {
    first();
    n++;
    chunks++;
    bytes += p.data.length;
    if (n >= count) break;
  }
  t1 = performance.now();
} else if (via === 'pipe') {
  const stop = new AbortController();
  const sink = new WritableStream({
    write(p) {
      first();
      n++;
      chunks++;
      bytes += p.data.length;
      if (n >= count) {
        t1 = performance.now();
        stop.abort();
      }
    },
  });
  await tun.readable.pipeTo(sink, { signal: stop.signal }).catch(() => undefined);
} else if (via === 'rxjs') {
  await new Promise((resolve, reject) => {
    const subscription = tun.packets$.subscribe({
      next(packet) {
        if (n >= count) return; // the rest of the batch after the last counted packet
        first();
        n++;
        chunks++;
        bytes += packet.data.length;
        if (n >= count) {
          t1 = performance.now();
          queueMicrotask(() => subscription.unsubscribe());
          resolve();
        }
      },
      error: reject,
      complete: resolve,
    });
  });
} else {
  process.stderr.write('usage: stream-drain.mjs IFNAME COUNT readable|batches|iterate|pipe|rxjs [RX_SLOTS]\n');
  process.exit(2);
}
const s = tun.stats();
await tun.close();
const seconds = (t1 - t0) / 1000;
process.stdout.write(JSON.stringify({
  packets: n,
  seconds,
  pps: Math.round((n - 1) / seconds),
  bytes,
  chunks,
  workerBatches: s.rxBatches,
  deliveredBatches: s.deliveredBatches,
  ringFull: s.ringFull,
  wakeups: s.wakeups,
}) + '\n');
