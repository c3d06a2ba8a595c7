/**
 * splitGso (the header given as an object, the packet without it) and
 * completeChecksum: the same contract as the read path, for superpackets that
 * must leave through a device without offload.
 */
import t from 'tap';
import {
  buildTcpPacket,
  buildUdpPacket,
  buildVirtioPacket,
  completeChecksum,
  createVirtioNetHdr,
  decodeVirtioNetHdr,
  patternBytes,
  splitGso,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_LEN,
} from '../src/index.js';
import { GuardedBuffers } from './support/guarded-buffers.js';
import { ADDRESSES, expectedSegments, virtioRead, type SuperpacketSpec } from './support/superpackets.js';

t.test('splitGso takes the packet and its decoded header separately', async (t) => {
  const spec: SuperpacketSpec = { family: 6, protocol: 'udp', payload: patternBytes(5000, 3), gsoSize: 1000 };
  const read = virtioRead(spec);
  const hdr = decodeVirtioNetHdr(read);
  const packet = read.subarray(VIRTIO_NET_HDR_LEN);
  const out = GuardedBuffers.uniform(5, 1100, 16, true);
  const sizes = new Int32Array(5);
  t.equal(splitGso(packet, hdr, out.bufs, sizes, 20), 5);
  const expected = expectedSegments(spec);
  for (let i = 0; i < 5; i++) t.same(out.bufs[i].subarray(20, 20 + sizes[i]), expected[i], `segment ${i}`);
  t.ok(out.intact());
});

t.test('splitGso with GSO_NONE copies and completes the checksum', async (t) => {
  const packet = buildTcpPacket({ ...ADDRESSES[6], srcPort: 9, dstPort: 10, payload: 99 });
  const read = buildVirtioPacket(packet);
  const out = GuardedBuffers.uniform(1, 200);
  const sizes = [0];
  t.equal(splitGso(read.subarray(VIRTIO_NET_HDR_LEN), decodeVirtioNetHdr(read), out.bufs, sizes, 0), 1);
  t.same(out.bufs[0].subarray(0, sizes[0]), packet);
});

t.test('splitGso: output bufs and input in one SharedArrayBuffer (a ring)', async (t) => {
  const spec: SuperpacketSpec = { family: 4, protocol: 'tcp', payload: patternBytes(4000, 4), gsoSize: 1448 };
  const read = virtioRead(spec);
  const ring = new Uint8Array(new SharedArrayBuffer(16384));
  ring.set(read, 8000);
  const input = ring.subarray(8000 + VIRTIO_NET_HDR_LEN, 8000 + read.length);
  const bufs = [ring.subarray(0, 1600), ring.subarray(1600, 3200), ring.subarray(3200, 4800)];
  const sizes = new Int32Array(3);
  t.equal(splitGso(input, decodeVirtioNetHdr(read), bufs, sizes, 10), 3);
  expectedSegments(spec).forEach((seg, i) => t.same(bufs[i].subarray(10, 10 + sizes[i]), seg, `segment ${i}`));
});

t.test('completeChecksum', async (t) => {
  const packet = buildUdpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 2, payload: 77 });
  const read = buildVirtioPacket(packet);
  const hdr = decodeVirtioNetHdr(read);
  const frame = read.slice();

  t.test('completes in place at an offset', async (t) => {
    const copy = frame.slice();
    completeChecksum(copy, hdr, VIRTIO_NET_HDR_LEN);
    t.same(copy.subarray(VIRTIO_NET_HDR_LEN), packet);
    t.same(copy.subarray(0, VIRTIO_NET_HDR_LEN), frame.subarray(0, VIRTIO_NET_HDR_LEN), 'bytes before the offset untouched');
  });
  t.test('does nothing without NEEDS_CSUM', async (t) => {
    const copy = frame.slice();
    completeChecksum(copy, { ...hdr, flags: 0 }, VIRTIO_NET_HDR_LEN);
    t.same(copy, frame);
  });
  t.test('refuses a checksum field past the end, writing nothing', async (t) => {
    const copy = frame.slice();
    t.throws(() => completeChecksum(copy, { ...hdr, csumOffset: packet.length - 20 - 1 }, VIRTIO_NET_HDR_LEN), {
      code: 'ERR_TUN_BAD_VIRTIO_HDR',
    });
    t.same(copy, frame);
  });
  t.test('an explicit length bounds the sum', async (t) => {
    const padded = new Uint8Array(VIRTIO_NET_HDR_LEN + packet.length + 5).fill(0xab);
    padded.set(frame);
    completeChecksum(padded, hdr, VIRTIO_NET_HDR_LEN, packet.length);
    t.same(padded.subarray(VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_LEN + packet.length), packet);
  });
  t.test('range errors', async (t) => {
    t.throws(() => completeChecksum(new Uint8Array(10), hdr, 4, 7), { code: 'ERR_TUN_INVALID_ARGUMENT' });
    const h = createVirtioNetHdr();
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.gsoType = VIRTIO_NET_HDR_GSO_NONE;
    t.throws(() => completeChecksum(new Uint8Array(1), h), { code: 'ERR_TUN_BAD_VIRTIO_HDR' });
  });
});
