// GRO per core: 44 in-order 1448-byte TCP segments of one flow coalesced by
// handleGro into one superpacket (checksums of every segment verified, payload
// copied). Each run restores the first packet's header, which GRO rewrites.
// Reports µs per batch and payload Gbps.
//   node bench/offload/gro.mjs
import {
  buildTcpPacket,
  buildVirtioPacket,
  GroTable,
  handleGro,
  handleVirtioRead,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
} from '../../packages/offload/dist/src/index.js';
import { medianRate, round } from './measure.mjs';

const MSS = 1448;
const SEGMENTS = 44;
const OFFSET = 10;
const timestamps = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);

function measure(family) {
  const v6 = family === 6;
  const packet = buildTcpPacket({
    src: v6 ? '2001:db8::1' : '192.0.2.1',
    dst: v6 ? '2001:db8::2' : '192.0.2.2',
    srcPort: 40000,
    dstPort: 5201,
    seq: 1000,
    ack: 2000,
    tcpOptions: timestamps,
    payload: MSS * SEGMENTS,
  });
  const input = buildVirtioPacket(packet, { gsoType: v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: MSS });
  const slot = 65536 + 64;
  const ring = new Uint8Array(new SharedArrayBuffer(slot * SEGMENTS));
  const bufs = Array.from({ length: SEGMENTS }, (_, i) => ring.subarray(i * slot, (i + 1) * slot));
  const sizes = new Int32Array(SEGMENTS);
  if (handleVirtioRead(input, bufs, sizes, OFFSET) !== SEGMENTS) throw new Error('setup: split failed');
  const first = bufs[0].slice(0, OFFSET + sizes[0]);
  const lengths = new Int32Array(SEGMENTS);
  const table = new GroTable();
  const options = { tcp: true, udp: false };
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
  return {
    usPerBatch: round(1e6 / r.median),
    payloadGbps: round((r.median * MSS * SEGMENTS * 8) / 1e9),
    coalescedTo: table.written.length,
  };
}

console.log(JSON.stringify({ bench: 'offload.gro', segments: SEGMENTS, mss: MSS, tcp4: measure(4), tcp6: measure(6) }));
