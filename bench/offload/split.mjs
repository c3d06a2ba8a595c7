// GSO split per core: a ~64 KB TCP superpacket (superpacket.mjs) cut by
// handleVirtioRead into 1448-byte segments with full checksums. Reports payload
// Gbps, segments/s and µs per superpacket (median, min, max of the timed runs).
// Segments land at offset 10 of 2048-byte slots of one SharedArrayBuffer, as in
// a queue worker's RX ring (header area first); `misaligned` puts them at
// offset 0, where source and destination differ mod 8 and copies into shared
// memory cannot go native (see packages/offload/src/copy-checksum.ts).
//   node bench/offload/split.mjs
import { handleVirtioRead } from '../../packages/offload/dist/src/index.js';
import { medianRate, round } from './measure.mjs';
import { MSS, SEGMENTS, tcpSuperpacket } from './superpacket.mjs';

function measure(family, offset = 10) {
  const { packet, input } = tcpSuperpacket(family);
  // Output slots in one shared buffer, as a worker's ring would have them.
  const slot = 2048;
  const ring = new Uint8Array(new SharedArrayBuffer(slot * 64));
  const bufs = Array.from({ length: 64 }, (_, i) => ring.subarray(i * slot, (i + 1) * slot));
  const sizes = new Int32Array(64);
  const r = medianRate((n) => {
    for (let i = 0; i < n; i++) handleVirtioRead(input, bufs, sizes, offset);
  }, 1);
  const gbps = (perSecond) => round((perSecond * MSS * SEGMENTS * 8) / 1e9);
  return {
    superpacketBytes: packet.length,
    payloadGbps: gbps(r.median),
    payloadGbpsMin: gbps(r.min),
    payloadGbpsMax: gbps(r.max),
    segmentsPerSecond: round(r.median * SEGMENTS),
    usPerSuperpacket: round(1e6 / r.median),
  };
}

console.log(JSON.stringify({ bench: 'offload.split', target: { payloadGbps: 10 }, segments: SEGMENTS, mss: MSS, tcp4: measure(4), tcp6: measure(6), misaligned: measure(4, 0) }));
