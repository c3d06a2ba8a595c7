// GSO split per core: a ~64 KB TCP superpacket (superpacket.mjs) cut by
// handleVirtioRead into 1448-byte segments with full checksums. Reports payload
// Gbps, segments/s and µs per superpacket (median, min, max of the timed runs).
//   node bench/offload/split.mjs
import { handleVirtioRead } from '../../packages/offload/dist/src/index.js';
import { medianRate, round } from './measure.mjs';
import { MSS, SEGMENTS, tcpSuperpacket } from './superpacket.mjs';

function measure(family) {
  const { packet, input } = tcpSuperpacket(family);
  // Output slots in one shared buffer, as a worker's ring would have them.
  const slot = 2048;
  const ring = new Uint8Array(new SharedArrayBuffer(slot * 64));
  const bufs = Array.from({ length: 64 }, (_, i) => ring.subarray(i * slot, (i + 1) * slot));
  const sizes = new Int32Array(64);
  const r = medianRate((n) => {
    for (let i = 0; i < n; i++) handleVirtioRead(input, bufs, sizes, 0);
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

console.log(JSON.stringify({ bench: 'offload.split', target: { payloadGbps: 10 }, segments: SEGMENTS, mss: MSS, tcp4: measure(4), tcp6: measure(6) }));
