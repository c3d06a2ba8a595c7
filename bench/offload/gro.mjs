// GRO per core: the 44 in-order 1448-byte TCP segments of one flow (the split
// of superpacket.mjs) coalesced by handleGro into one superpacket (checksums of
// every segment verified, payload copied). Each run restores the first
// packet's header, which GRO rewrites. Reports µs per batch and payload Gbps
// (median, min, max of the timed runs). `tcp4trusted` / `tcp6trusted`: the same
// batch with `checksumsValid` set for every segment, as a split-mode worker
// passes segments it split itself (no verification, native payload copies).
//   node bench/offload/gro.mjs
import { GroTable, handleGro, handleVirtioRead } from '../../packages/offload/dist/src/index.js';
import { medianRate, round } from './measure.mjs';
import { MSS, SEGMENTS, tcpSuperpacket } from './superpacket.mjs';

const OFFSET = 10;

function measure(family, trusted = false) {
  const { input } = tcpSuperpacket(family);
  const slot = 65536 + 64;
  const ring = new Uint8Array(new SharedArrayBuffer(slot * SEGMENTS));
  const bufs = Array.from({ length: SEGMENTS }, (_, i) => ring.subarray(i * slot, (i + 1) * slot));
  const sizes = new Int32Array(SEGMENTS);
  if (handleVirtioRead(input, bufs, sizes, OFFSET) !== SEGMENTS) throw new Error('setup: split failed');
  const first = bufs[0].slice(0, OFFSET + sizes[0]);
  const lengths = new Int32Array(SEGMENTS);
  const table = new GroTable();
  const options = { tcp: true, udp: false, checksumsValid: trusted ? new Uint8Array(SEGMENTS).fill(1) : undefined };
  let written = 0;
  const run = (n) => {
    for (let i = 0; i < n; i++) {
      bufs[0].set(first);
      lengths.set(sizes);
      written += handleGro(bufs, lengths, OFFSET, table, options).length;
    }
  };
  run(1);
  if (table.written.length !== 1) throw new Error(`setup: expected one packet, got ${table.written.length}`);
  const r = medianRate(run, 1);
  const gbps = (perSecond) => round((perSecond * MSS * SEGMENTS * 8) / 1e9);
  return {
    usPerBatch: round(1e6 / r.median),
    usPerBatchMin: round(1e6 / r.max),
    usPerBatchMax: round(1e6 / r.min),
    payloadGbps: gbps(r.median),
    coalescedTo: table.written.length,
  };
}

console.log(JSON.stringify({ bench: 'offload.gro', segments: SEGMENTS, mss: MSS, tcp4: measure(4), tcp6: measure(6), tcp4trusted: measure(4, true), tcp6trusted: measure(6, true) }));
