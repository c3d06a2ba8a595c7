#!/usr/bin/env node
/**
 * The RxJS drainer of the drain suite (run by drain-suite.mjs inside its
 * namespace; same protocol as the other drainers): creates TUN IFNAME (no
 * offload), prints READY, waits for `go N` on stdin (N packets are then queued
 * in the kernel), opens it with `openTun({ device })` and counts N packets
 * through a subscription to `tun.packets$` on the main thread. The rate is
 * taken from the first packet to the last. Prints
 * {"packets":N,"seconds":S,"pps":P,"bytes":B,...}.
 *
 *   node rx-drain.mjs IFNAME COUNT [RX_SLOTS]
 */
import { openTun } from '@tunpipe/streams';
import { drainerHandshake } from './drainer-handshake.mjs';

const [name, countText, slotsText] = process.argv.slice(2);
const { device, count } = await drainerHandshake('rx-drain', name, Number(countText));

const tun = await openTun({ device, rxSlots: Number(slotsText ?? 1024) });
let n = 0;
let bytes = 0;
let t0 = 0;
let t1 = 0;
await new Promise((resolve, reject) => {
  const subscription = tun.packets$.subscribe({
    next(packet) {
      if (n >= count) return; // the rest of the batch after the last counted packet
      if (n === 0) t0 = performance.now();
      n++;
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
const s = tun.stats();
await tun.close();
const seconds = (t1 - t0) / 1000;
process.stdout.write(JSON.stringify({
  packets: n,
  seconds,
  pps: Math.round((n - 1) / seconds),
  bytes,
  workerBatches: s.rxBatches,
  deliveredBatches: s.deliveredBatches,
  ringFull: s.ringFull,
  wakeups: s.wakeups,
}) + '\n');
