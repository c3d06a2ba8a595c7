/**
 * Regenerates the streams fuzz seeds in test/fuzz/seeds/:
 *   node packages/streams/dist/test/fuzz/make-seeds.js
 * frame-streams.json: byte streams of framed packets (every optional field, odd
 * metadata, empty and large packets), in hex. pcap-cases.json: writer options
 * and packet sizes on the boundaries a pcap writer must get right. packets.json:
 * IPv4/IPv6 TCP, UDP and ICMP packets (options, extension headers, fragments)
 * and Ethernet frames (IP, ARP, VLAN) for header parsing.
 * The files are committed; the fuzzers read them and never regenerate them.
 */
import { writeFileSync } from 'node:fs';
import { toHex } from '@tunpipe/testkit';
import { buildEthernetFrame, buildIcmpPacket, buildTcpPacket, buildUdpPacket, IpProtocol, TcpFlag } from '@tunpipe/offload';
import { FrameBodyCodec } from '../../src/frame-format.js';
import { PacketView } from '../../src/packet.js';
import { SEED_DIR, type PcapCase } from './seeds.js';

const MAX = 256 * 1024;
const codec = new FrameBodyCodec(MAX);
const bytes = (n: number, k = 7) => Uint8Array.from({ length: n }, (_, i) => (i * k + 1) & 0xff);
const frame = (data: Uint8Array, queue = 0, hdr?: number[], ts?: bigint, meta?: unknown) =>
  codec.encodeFrame(
    new PacketView(
      data,
      queue,
      hdr && { flags: hdr[0]!, gsoType: hdr[1]!, hdrLen: hdr[2]!, gsoSize: hdr[3]!, csumStart: hdr[4]!, csumOffset: hdr[5]! },
      ts,
      meta,
    ),
    MAX,
  );
const stream = (...frames: Uint8Array[]) => toHex(Buffer.concat(frames));

const frameStreams = [
  stream(frame(bytes(20))),
  stream(frame(new Uint8Array(0)), frame(bytes(1), 1)),
  stream(frame(bytes(60), 3, [1, 1, 52, 1448, 20, 16], 1_700_000_000_123_456_789n)),
  stream(frame(bytes(40), 0, [0, 0, 0, 0, 0, 0], 0n, null)),
  stream(frame(bytes(28), 7, undefined, undefined, { app: 'x', n: -1, f: 1.5, list: [1, 'two', false], nested: { deep: [null] } })),
  stream(frame(bytes(16), 0xffff_ffff, [0xff, 0xff, 0xffff, 0xffff, 0xffff, 0xffff], (1n << 64n) - 1n, 'meta string')),
  stream(frame(bytes(8), 2, undefined, undefined, bytes(33)), frame(bytes(9), 2, undefined, undefined, 2n ** 60n), frame(bytes(10))),
  stream(frame(bytes(1500, 13), 1), frame(bytes(64), 0, [1, 4, 0, 1220, 40, 16])),
  stream(frame(bytes(9000, 3), 0, [1, 1, 0, 1448, 20, 16], 5n)),
  stream(...Array.from({ length: 12 }, (_, i) => frame(bytes(i * 5), i % 3))),
];

const pcapCases: PcapCase[] = [
  { snaplen: 262144, bufferSize: 65536, precision: 'micro', linkType: 'raw', sizes: [0, 1, 2, 3, 19, 20, 21, 59, 1499, 1500, 1501] },
  { snaplen: 96, bufferSize: 65536, precision: 'micro', linkType: 'raw', sizes: [95, 96, 97, 0, 65535] },
  { snaplen: 1, bufferSize: 24, precision: 'nano', linkType: 'ethernet', sizes: [0, 1, 2, 14, 60] },
  { snaplen: 262144, bufferSize: 24, precision: 'nano', linkType: 'raw', sizes: [7, 8, 9, 65535, 65536] },
  { snaplen: 262144, bufferSize: 65536, precision: 'micro', linkType: 'raw', sizes: [65519, 65520, 65521, 65536 - 16, 65536 - 15] },
  { snaplen: 262144, bufferSize: 4096, precision: 'micro', linkType: 'raw', sizes: [262143, 262144, 262145, 300_001] },
  { snaplen: 65535, bufferSize: 100, precision: 'nano', linkType: 'ethernet', sizes: [83, 84, 85, 65535, 65536, 1] },
  { snaplen: 12345, bufferSize: 12361, precision: 'micro', linkType: 'raw', sizes: [12344, 12345, 12346, 0, 0, 0] },
];

const macs = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };
const v4 = { src: '198.18.0.1', dst: '198.18.0.2' };
const v6 = { src: 'fd00::1', dst: 'fd00::2' };
const fragment = buildUdpPacket({ ...v4, srcPort: 1, dstPort: 2, payload: 40 });
fragment[6] = 0x00;
fragment[7] = 0x10; // fragment offset 16 (a later fragment)
const ipPackets = [
  buildTcpPacket({ ...v4, srcPort: 40000, dstPort: 443, seq: 1, ack: 2, flags: TcpFlag.SYN, tcpOptions: Uint8Array.of(2, 4, 5, 180, 1, 1, 4, 2), payload: 0 }),
  buildTcpPacket({ ...v6, srcPort: 40000, dstPort: 443, seq: 1, ack: 2, flags: TcpFlag.ACK | TcpFlag.PSH, payload: 100 }),
  buildUdpPacket({ ...v4, srcPort: 5353, dstPort: 53, payload: 30 }),
  buildUdpPacket({ ...v6, srcPort: 5353, dstPort: 53, payload: 30, extensionHeaders: [{ type: IpProtocol.HOPOPTS, data: new Uint8Array(6) }] }),
  buildIcmpPacket({ ...v4, payload: 56 }),
  buildIcmpPacket({ ...v6, payload: 8 }),
  fragment,
];
const packets = [
  ...ipPackets.map((p) => ({ link: 'ip', hex: toHex(p) })),
  { link: 'ethernet', hex: toHex(buildEthernetFrame({ ...macs, payload: ipPackets[2]! })) },
  { link: 'ethernet', hex: toHex(buildEthernetFrame({ ...macs, payload: ipPackets[1]! })) },
  { link: 'ethernet', hex: toHex(buildEthernetFrame({ ...macs, etherType: 0x0806, payload: new Uint8Array(28) })) },
  { link: 'ethernet', hex: toHex(buildEthernetFrame({ ...macs, etherType: 0x8100, payload: Uint8Array.of(0, 1, 8, 0, ...ipPackets[4]!) })) },
];

writeFileSync(SEED_DIR + 'packets.json', `${JSON.stringify(packets, null, 1)}\n`);
writeFileSync(SEED_DIR + 'frame-streams.json', `${JSON.stringify(frameStreams, null, 1)}\n`);
writeFileSync(SEED_DIR + 'pcap-cases.json', `${JSON.stringify(pcapCases, null, 1)}\n`);
console.log(`wrote ${frameStreams.length} frame streams, ${pcapCases.length} pcap cases and ${packets.length} packets to ${SEED_DIR}`);
