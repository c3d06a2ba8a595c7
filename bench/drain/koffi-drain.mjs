#!/usr/bin/env node
/**
 * Reference for the drain benchmark: the floor of reading a TUN fd from
 * JavaScript at all. One thread, core's koffi `read()` binding in a tight loop
 * into SharedArrayBuffer slots, no worker, no ring protocol, no consumer.
 * Same protocol as node-drain.mjs (READY, `go N`, JSON result).
 *
 *   node koffi-drain.mjs IFNAME COUNT
 */
import { sys, errno, constants } from '@tunpipe/core';
import { drainerHandshake } from './drainer-handshake.mjs';

const [name, countText] = process.argv.slice(2);
const { device, count } = await drainerHandshake('koffi-drain', name, Number(countText));
const fd = device.fd;
const STRIDE = 1536;
const SLOTS = 1024;
const sab = new SharedArrayBuffer(SLOTS * STRIDE);
const views = Array.from({ length: SLOTS }, (_, i) => new Uint8Array(sab, i * STRIDE + 10, STRIDE - 10));
let n = 0;
let t0 = 0;
let c0 = process.cpuUsage();
const deadline = Date.now() + 30_000;
while (n < count && Date.now() < deadline) {
  const r = sys.read(fd, views[n & (SLOTS - 1)], STRIDE - 10);
  if (r < 0) {
    if (errno() === constants.EAGAIN) continue;
    break;
  }
  if (n === 0) {
    t0 = performance.now();
    c0 = process.cpuUsage();
  }
  n++;
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
device.close();
// One JS thread reads (V8's helper threads are idle): the process CPU is the loop's.
const per = Math.round(((cpu.user + cpu.system) * 1000) / (n - 1));
process.stdout.write(JSON.stringify({ packets: n, seconds, pps: Math.round((n - 1) / seconds), workerNsPerPacket: per, processNsPerPacket: per }) + '\n');
