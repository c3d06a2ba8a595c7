/**
 * Regenerates the seed files in test/fuzz/seeds/ from the packet builders:
 *   node packages/offload/dist/test/fuzz/make-seeds.js
 * The files are committed; the fuzzers read them and never regenerate them.
 */
import { writeFileSync } from 'node:fs';
import {
  buildEthernetFrame,
  buildIcmpPacket,
  buildIpPacket,
  buildTcpPacket,
  buildUdpPacket,
  buildVirtioPacket,
  handleVirtioRead,
  IpProtocol,
  patternBytes,
  TcpFlag,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
} from '../../src/index.js';
import { toHex } from './mutate.js';
import { SEED_DIR } from './seeds.js';

const v4 = { src: '192.0.2.1', dst: '198.51.100.2' };
const v6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const ts = Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2);

const tcp = (ip: typeof v4 | typeof v6, payload: number, extra: object = {}) =>
  buildTcpPacket({ ...ip, srcPort: 40000, dstPort: 5201, seq: 1000, ack: 1, flags: TcpFlag.ACK, payload, ...extra });
const udp = (ip: typeof v4 | typeof v6, payload: number, extra: object = {}) => buildUdpPacket({ ...ip, srcPort: 4000, dstPort: 53, payload, ...extra });

// Reads: superpackets of every kind, small and large gso sizes, plus GSO_NONE packets.
const reads: Uint8Array[] = [
  buildVirtioPacket(tcp(v4, 3000, { tcpOptions: ts, flags: TcpFlag.ACK | TcpFlag.PSH }), { gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448 }),
  buildVirtioPacket(tcp(v4, 600), { gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 100, hdrLen: 640 }),
  buildVirtioPacket(tcp(v6, 2500, { flags: TcpFlag.ACK | TcpFlag.FIN }), { gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1000 }),
  buildVirtioPacket(tcp(v6, 700, { extensionHeaders: [{ type: IpProtocol.HOPOPTS, data: new Uint8Array(6) }] }), { gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 300 }),
  buildVirtioPacket(udp(v4, 2400), { gsoType: VIRTIO_NET_HDR_GSO_UDP_L4, gsoSize: 800 }),
  buildVirtioPacket(udp(v6, 1300), { gsoType: VIRTIO_NET_HDR_GSO_UDP_L4, gsoSize: 500 }),
  buildVirtioPacket(tcp(v4, 63712, { tcpOptions: ts }), { gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448 }),
  buildVirtioPacket(tcp(v4, 200)),
  buildVirtioPacket(udp(v6, 64)),
  buildVirtioPacket(buildIcmpPacket({ ...v4, payload: 56 }), { needsCsum: false }),
];

// GRO batches: runs of segments of one or two flows, split from superpackets.
function segments(read: Uint8Array): Uint8Array[] {
  const bufs = Array.from({ length: 64 }, () => new Uint8Array(2000));
  const sizes = new Int32Array(64);
  const n = handleVirtioRead(read, bufs, sizes, 0);
  return bufs.slice(0, n).map((b, i) => b.slice(0, sizes[i]));
}
const batches: Uint8Array[][] = [
  segments(reads[1]),
  segments(reads[3]),
  segments(reads[4]),
  segments(reads[5]),
  [...segments(reads[1]), ...segments(buildVirtioPacket(tcp(v4, 400, { srcPort: 2 }), { gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 100 }))],
  [...segments(reads[5]), tcp(v4, 10), udp(v4, 10), buildIcmpPacket({ ...v6 })],
  segments(buildVirtioPacket(tcp(v6, 900, { flags: TcpFlag.ACK | TcpFlag.PSH }), { gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 150 })).reverse(),
];

// Packets for the views: IP packets of each protocol, bare L4 headers, frames.
const packets: Uint8Array[] = [
  tcp(v4, 20, { ipOptions: Uint8Array.of(1, 1, 1, 0) }),
  tcp(v6, 20, { tcpOptions: ts }),
  udp(v4, 12),
  udp(v6, 12, { extensionHeaders: [{ type: IpProtocol.DSTOPTS, data: new Uint8Array(6) }] }),
  buildIcmpPacket({ ...v4, payload: 16 }),
  buildIcmpPacket({ ...v6, payload: 16 }),
  buildIpPacket({ ...v4, protocol: IpProtocol.GRE, payload: patternBytes(12) }),
  tcp(v4, 8).subarray(20),
  udp(v6, 8).subarray(40),
  buildEthernetFrame({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', payload: udp(v4, 4) }),
];

const write = (name: string, value: unknown) => writeFileSync(SEED_DIR + name, JSON.stringify(value, null, 1) + '\n');
write('virtio-reads.json', reads.map(toHex));
write('gro-batches.json', batches.map((b) => b.map(toHex)));
write('packets.json', packets.map(toHex));
console.log(`wrote ${reads.length} reads, ${batches.length} batches, ${packets.length} packets to ${SEED_DIR}`);
