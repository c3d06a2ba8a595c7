// The per-superpacket CPU cost of split mode's relay path, as one queue worker
// runs it (linux-mq queue-loop.ts + egress.ts), without the syscalls:
//   1. handleVirtioRead: a ~64 KB TCP superpacket (superpacket.mjs) read
//      into an ordinary buffer is split into RX ring slots (SharedArrayBuffer,
//      64-aligned 2048-byte stride, packet at offset 10) with full checksums;
//   2. each segment is copied into a GRO staging buffer (native set, as egress
//      does for MTU-sized slots);
//   3. handleGro coalesces the 44 segments back into one superpacket, once
//      verifying every checksum ("verify") and once trusting the split's
//      checksums through the `checksumsValid` option ("trusted", what egress
//      does for slots its own worker split).
// CPU time (process.cpuUsage, user + system), not wall time, so other
// processes on the machine disturb it less. Prints one JSON line.
//   node bench/offload/split-gro.mjs
// A/B against another build of the package: OFFLOAD=/path/to/dist/src/index.js
import { pathToFileURL } from 'node:url';
import { round } from './measure.mjs';
import { MSS, SEGMENTS, tcpSuperpacket } from './superpacket.mjs';

const modulePath = process.env.OFFLOAD ? pathToFileURL(process.env.OFFLOAD).href : '../../packages/offload/dist/src/index.js';
const o = await import(modulePath);

const OFFSET = 10;

function setup(family) {
  const { input: framed } = tcpSuperpacket(family);
  // The worker's read buffer: an ordinary ArrayBuffer, the read at offset 0.
  const scratch = new Uint8Array(65536 + 128);
  scratch.set(framed);
  const input = scratch.subarray(0, framed.length);
  const stride = 2048;
  const ring = new SharedArrayBuffer(64 + stride * 64);
  const frames = Array.from({ length: 64 }, (_, i) => new Uint8Array(ring, 64 + i * stride, stride));
  const bufs = frames.slice(0, SEGMENTS);
  const sizes = new Int32Array(64);
  const exact = new Array(64);
  const gstride = 65536 + 128;
  const gbacking = new ArrayBuffer(gstride * SEGMENTS);
  const staging = Array.from({ length: SEGMENTS }, (_, i) => new Uint8Array(gbacking, i * gstride, gstride));
  const lengths = new Int32Array(SEGMENTS);
  const valid = new Uint8Array(SEGMENTS);
  const table = new o.GroTable();
  const verify = { tcp: true, udp: false };
  const trusted = { tcp: true, udp: false, checksumsValid: valid };
  const step = (options, trust) => {
    const n = o.handleVirtioRead(input, bufs, sizes, OFFSET);
    for (let k = 0; k < n; k++) {
      let v = exact[k];
      if (v === undefined || v.length !== sizes[k]) exact[k] = v = new Uint8Array(ring, 64 + k * stride + OFFSET, sizes[k]);
      staging[k].set(v, OFFSET);
      lengths[k] = sizes[k];
      valid[k] = trust;
    }
    const out = o.handleGro(staging, lengths, OFFSET, table, options);
    if (out.length !== 1) throw new Error(`expected one superpacket, got ${out.length}`);
  };
  return {
    split: () => o.handleVirtioRead(input, bufs, sizes, OFFSET),
    verify: () => step(verify, 0),
    trusted: () => step(trusted, 1),
  };
}

/** Median CPU microseconds per call over 7 runs of ~150 ms after a warm-up. */
function cpuMicros(fn) {
  const run = (n) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const c = process.cpuUsage(c0);
    return c.user + c.system;
  };
  let n = 64;
  run(n);
  while (run(n) < 100_000) n *= 2;
  const per = [];
  for (let r = 0; r < 7; r++) per.push(run(n) / n);
  per.sort((a, b) => a - b);
  return round(per[3]);
}

const result = { bench: 'offload.split-gro', segments: SEGMENTS, mss: MSS, unit: 'CPU us per superpacket' };
for (const family of [4, 6]) {
  const s = setup(family);
  result[`tcp${family}`] = {
    split: cpuMicros(s.split),
    splitGroVerify: cpuMicros(s.verify),
    splitGroTrusted: cpuMicros(s.trusted),
  };
}
console.log(JSON.stringify(result));
