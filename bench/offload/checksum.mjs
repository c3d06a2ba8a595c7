// Checksum throughput per core (RFC 1071 sum via onesComplementSum), GB/s for
// buffer lengths 64..65535, at an aligned and an odd start. Prints one JSON line.
//   node bench/offload/checksum.mjs
import { onesComplementSum } from '../../packages/offload/dist/src/index.js';
import { medianRate, round } from './measure.mjs';

const sizes = [64, 128, 256, 512, 1024, 1500, 4096, 9000, 16384, 65535];
const buffer = new Uint8Array(65536 + 64);
for (let i = 0; i < buffer.length; i++) buffer[i] = (i * 131 + 7) & 0xff;

const aligned = {};
const odd = {};
let sink = 0;
for (const size of sizes) {
  for (const [table, start] of [[aligned, 0], [odd, 1]]) {
    const r = medianRate((n) => {
      for (let i = 0; i < n; i++) sink ^= onesComplementSum(buffer, start, start + size);
    }, size);
    table[size] = round(r.median / 1e9);
  }
}
console.log(JSON.stringify({ bench: 'offload.checksum', unit: 'GB/s', target: 4, aligned, oddStart: odd, sink: sink & 1 }));
