/**
 * estimateSegments must agree exactly with the splitter (handleVirtioRead),
 * because the worker only splits once the ring has that many free slots.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  buildTcpPacket, buildUdpPacket, buildVirtioPacket, handleVirtioRead,
  VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_GSO_ECN,
} from '@tunpipe/offload';
import { estimateSegments } from '../src/segment-estimate.js';

const bufs = Array.from({ length: 300 }, () => new Uint8Array(10 + 9100));
const sizes = new Int32Array(300);

function both(input: Uint8Array): [number, number] {
  return [estimateSegments(input, input.length), handleVirtioRead(input, bufs, sizes, 10)];
}

t.test('table', async (t) => {
  const rows: Array<{ name: string; input: Uint8Array; expect: number }> = [
    {
      name: 'plain UDP',
      input: buildVirtioPacket(buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, payload: 100 })),
      expect: 1,
    },
    {
      name: 'TCPv4 64000 bytes at 1448',
      input: buildVirtioPacket(
        buildTcpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, payload: 64000 }),
        { gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448 },
      ),
      expect: 45,
    },
    {
      name: 'TCPv4 with ECN bit, exact multiple',
      input: buildVirtioPacket(
        buildTcpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, payload: 1448 * 3 }),
        { gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, gsoSize: 1448 },
      ),
      expect: 3,
    },
    {
      name: 'TCPv6 with 12 option bytes',
      input: buildVirtioPacket(
        buildTcpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 1, dstPort: 2, tcpOptions: new Uint8Array(12), payload: 10000 }),
        { gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1000 },
      ),
      expect: 10,
    },
    {
      name: 'UDP_L4 over IPv6',
      input: buildVirtioPacket(buildUdpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 1, dstPort: 2, payload: 5000 }), {
        gsoType: VIRTIO_NET_HDR_GSO_UDP_L4, gsoSize: 1200,
      }),
      expect: 5,
    },
  ];
  for (const r of rows) {
    const [est, real] = both(r.input);
    t.equal(real, r.expect, `${r.name}: splitter`);
    t.equal(est, r.expect, `${r.name}: estimate`);
  }
});

t.test('nonsense headers estimate 0 (counted as malformed by the worker)', async (t) => {
  const p = buildVirtioPacket(buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, payload: 100 }));
  const zeroSize = p.slice();
  zeroSize[1] = VIRTIO_NET_HDR_GSO_UDP_L4;
  t.equal(estimateSegments(zeroSize, zeroSize.length), 0);
  const unknown = p.slice();
  unknown[1] = 3;
  unknown[4] = 100;
  t.equal(estimateSegments(unknown, unknown.length), 0);
});

t.test('property: estimate equals the splitter for TCP and UDP superpackets', async (t) => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 20000 }),
      fc.integer({ min: 200, max: 9000 }),
      fc.integer({ min: 0, max: 10 }).map((n) => n * 4),
      (v6, tcp, payload, gsoSize, optLen) => {
        const ip = v6 ? { src: 'fd00::1', dst: 'fd00::2' } : { src: '198.18.0.1', dst: '198.18.0.2' };
        const packet = tcp
          ? buildTcpPacket({ ...ip, srcPort: 1, dstPort: 2, tcpOptions: new Uint8Array(optLen), payload })
          : buildUdpPacket({ ...ip, srcPort: 1, dstPort: 2, payload });
        const gsoType = tcp ? (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) : VIRTIO_NET_HDR_GSO_UDP_L4;
        const input = buildVirtioPacket(packet, { gsoType, gsoSize });
        const [est, real] = both(input);
        return est === real;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});
