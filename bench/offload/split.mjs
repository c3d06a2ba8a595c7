// GSO split per core: a ~64 KB TCP superpacket (44 x 1448 payload, 32-byte TCP
// header with timestamps) cut by handleVirtioRead into 1448-byte segments with
// full checksums. Reports payload Gbps, segments/s and µs per superpacket.
//   node bench/offload/split.mjs
import {
  buildTcpPacket,
  buildVirtioPacket,
  handleVirtioRead,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
} from '../../packages/offload/dist/src/index.js';
import { medianRate, round } from './measure.mjs';

const MSS = 1448;
const SEGMENTS = 44;
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
  // Output slots in one shared buffer, as a worker's ring would have them.
  const slot = 2048;
  const ring = new Uint8Array(new SharedArrayBuffer(slot * 64));
  const bufs = Array.from({ length: 64 }, (_, i) => ring.subarray(i * slot, (i + 1) * slot));
  const sizes = new Int32Array(64);
  const r = medianRate((n) => {
    for (let i = 0; i < n; i++) handleVirtioRead(input, bufs, sizes, 0);
  }, 1);
  const perSecond = r.median;
  return {
    superpacketBytes: packet.length,
    payloadGbps: round((perSecond * MSS * SEGMENTS * 8) / 1e9),
    segmentsPerSecond: round(perSecond * SEGMENTS),
    usPerSuperpacket: round(1e6 / perSecond),
  };
}

console.log(JSON.stringify({ bench: 'offload.split', target: { payloadGbps: 10 }, segments: SEGMENTS, mss: MSS, tcp4: measure(4), tcp6: measure(6) }));
