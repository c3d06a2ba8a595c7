/**
 * The read path, handleVirtioRead: one row per superpacket shape, each compared
 * byte for byte with segments built independently (so every header field of
 * every segment is checked: lengths, IPv4 ID and header checksum, TCP sequence
 * and flags, UDP length, L4 checksum); then one row per error, each checking
 * that nothing was written anywhere.
 */
import t from 'tap';
import {
  buildTcpPacket,
  buildUdpPacket,
  buildVirtioPacket,
  handleVirtioRead,
  IpProtocol,
  patternBytes,
  TcpFlag,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VIRTIO_NET_HDR_LEN,
  type VirtioPacketOptions,
} from '../src/index.js';
import { writeVirtioNetHdr } from '../src/virtio-net-hdr.js';
import { GuardedBuffers } from './support/guarded-buffers.js';
import { haveTcpdump, tcpdumpVerbose } from './support/pcap.js';
import { ADDRESSES, expectedSegments, superpacket, virtioRead, type SuperpacketSpec } from './support/superpackets.js';

const TIMESTAMPS = Uint8Array.of(1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);

interface SplitRow {
  name: string;
  spec: SuperpacketSpec;
  virtio?: VirtioPacketOptions;
  offset?: number;
  expectSizes: number[];
}

const splitRows: SplitRow[] = [
  {
    name: 'tcp4: 3 full segments and a short one, ID and sequence wrap, PSH only on the last',
    spec: {
      family: 4,
      protocol: 'tcp',
      payload: patternBytes(3 * 1448 + 100, 1),
      gsoSize: 1448,
      ip: { id: 0xfffe, df: true, ttl: 61, tos: 0x10 },
      seq: 0xffffee00,
      flags: TcpFlag.ACK | TcpFlag.PSH,
      tcpOptions: TIMESTAMPS,
    },
    expectSizes: [1500, 1500, 1500, 152],
  },
  {
    name: 'tcp6: FIN|PSH only on the last segment',
    spec: { family: 6, protocol: 'tcp', payload: patternBytes(2 * 1000 + 1, 2), gsoSize: 1000, seq: 77, flags: TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN },
    expectSizes: [1060, 1060, 61],
  },
  {
    name: 'tcp6: extension headers between the fixed header and csum_start count in the payload length',
    spec: {
      family: 6,
      protocol: 'tcp',
      payload: patternBytes(3000, 3),
      gsoSize: 1400,
      ip: { extensionHeaders: [{ type: IpProtocol.HOPOPTS, data: new Uint8Array(6) }, { type: IpProtocol.DSTOPTS, data: new Uint8Array(14) }] },
    },
    expectSizes: [1484, 1484, 284],
  },
  {
    name: 'tcp4 with ECN: CWR only on the first segment (gso_type TCPV4|ECN)',
    spec: { family: 4, protocol: 'tcp', payload: patternBytes(2500, 4), gsoSize: 1000, flags: TcpFlag.ACK | TcpFlag.CWR | TcpFlag.ECE },
    virtio: { gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN },
    expectSizes: [1040, 1040, 540],
  },
  {
    name: 'udp4: an exact multiple of gso_size, IDs increment',
    spec: { family: 4, protocol: 'udp', payload: patternBytes(4 * 1200, 5), gsoSize: 1200, ip: { id: 9 } },
    expectSizes: [1228, 1228, 1228, 1228],
  },
  {
    name: 'udp6: a short last datagram',
    spec: { family: 6, protocol: 'udp', payload: patternBytes(2 * 1232 + 17, 6), gsoSize: 1232 },
    expectSizes: [1280, 1280, 65],
  },
  {
    name: 'payload not longer than gso_size: one segment',
    spec: { family: 4, protocol: 'tcp', payload: patternBytes(1448, 7), gsoSize: 1448 },
    expectSizes: [1488],
  },
  {
    name: 'hdr_len is not trusted (the kernel may report the whole first packet)',
    spec: { family: 4, protocol: 'tcp', payload: patternBytes(3000, 8), gsoSize: 1448 },
    virtio: { hdrLen: 1500 },
    expectSizes: [1488, 1488, 144],
  },
  {
    name: 'hdr_len 0 is not trusted either; output at offset 10',
    spec: { family: 6, protocol: 'udp', payload: patternBytes(3000, 9), gsoSize: 1452 },
    virtio: { hdrLen: 0 },
    offset: VIRTIO_NET_HDR_LEN,
    expectSizes: [1500, 1500, 144],
  },
];

t.test('split rows', async (t) => {
  for (const row of splitRows) {
    t.test(row.name, async (t) => {
      const input = virtioRead(row.spec, row.virtio);
      const inputCopy = input.slice();
      const offset = row.offset ?? 0;
      const out = GuardedBuffers.uniform(8, 1600);
      const sizes = new Int32Array(8);
      const n = handleVirtioRead(input, out.bufs, sizes, offset);
      t.same([...sizes.subarray(0, n)], row.expectSizes, 'segment sizes');
      const expected = expectedSegments(row.spec);
      t.equal(n, expected.length, 'segment count');
      for (let i = 0; i < n; i++) {
        t.same(out.bufs[i].subarray(offset, offset + sizes[i]), expected[i], `segment ${i}: every byte`);
      }
      t.ok(out.intact(), 'nothing written outside the buffers');
      t.same(input, inputCopy, 'the input is not modified');
    });
  }
});

t.test('GSO_NONE', async (t) => {
  const packet = buildTcpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 2, seq: 5, payload: 333 });
  t.test('NEEDS_CSUM: the checksum is completed', async (t) => {
    const input = buildVirtioPacket(packet, { gsoType: VIRTIO_NET_HDR_GSO_NONE });
    t.not(input[VIRTIO_NET_HDR_LEN + 36], packet[36], 'the input holds the partial checksum');
    const out = GuardedBuffers.uniform(1, 400);
    const sizes = [0];
    t.equal(handleVirtioRead(input, out.bufs, sizes, 3), 1);
    t.same(sizes, [packet.length]);
    t.same(out.bufs[0].subarray(3, 3 + packet.length), packet);
    t.ok(out.intact());
  });
  t.test('no NEEDS_CSUM: copied as it is (ICMP, say)', async (t) => {
    const odd = Uint8Array.of(...buildUdpPacket({ ...ADDRESSES[6], srcPort: 1, dstPort: 2, checksum: false }));
    const input = buildVirtioPacket(odd, { needsCsum: false });
    const out = GuardedBuffers.uniform(1, 100);
    const sizes = new Int32Array(1);
    t.equal(handleVirtioRead(input, out.bufs, sizes, 0), 1);
    t.same(out.bufs[0].subarray(0, sizes[0]), odd);
  });
  t.test('UDP whose completed checksum is 0 is written as 0xffff', async (t) => {
    // Find a payload whose UDP checksum computes to 0 (sum 0xffff): adjust one data word.
    const base = buildUdpPacket({ ...ADDRESSES[4], srcPort: 7, dstPort: 9, payload: Uint8Array.of(0, 0) });
    const stored = (base[26] << 8) | base[27];
    // Adding `stored` to the data word makes the sum 0xffff + ... = checksum 0.
    const tweaked = buildUdpPacket({ ...ADDRESSES[4], srcPort: 7, dstPort: 9, payload: Uint8Array.of(stored >> 8, stored & 0xff) });
    t.equal((tweaked[26] << 8) | tweaked[27], 0xffff, 'the builder already sends 0 as 0xffff');
    const input = buildVirtioPacket(tweaked);
    const out = GuardedBuffers.uniform(1, 100);
    handleVirtioRead(input, out.bufs, [0], 0);
    t.equal((out.bufs[0][26] << 8) | out.bufs[0][27], 0xffff);
  });
});

t.test('tcpdump agrees that every segment is valid (outside oracle)', { skip: haveTcpdump() ? false : 'tcpdump is not installed' }, async (t) => {
  const packets: Uint8Array[] = [];
  for (const row of splitRows) {
    const input = virtioRead(row.spec, row.virtio);
    const bufs = Array.from({ length: 8 }, () => new Uint8Array(1600));
    const sizes = new Int32Array(8);
    const n = handleVirtioRead(input, bufs, sizes, 0);
    for (let i = 0; i < n; i++) packets.push(bufs[i].slice(0, sizes[i]));
  }
  const text = tcpdumpVerbose(packets).join('\n');
  // tcpdump -vvv recomputes checksums: TCP prints "cksum 0x.... (correct)", UDP "[udp sum ok]".
  const ok = (text.match(/\(correct\)|\[udp sum ok\]/g) ?? []).length;
  t.equal(ok, packets.length, 'one verified L4 checksum per packet');
  t.notMatch(text, /incorrect|bad|truncated/i);
});

interface ErrorRow {
  name: string;
  input: () => Uint8Array;
  code: string;
  bufs?: number;
  capacities?: number[];
  sizes?: number;
  offset?: number;
}

const tcp4 = (payload = 3000): SuperpacketSpec => ({ family: 4, protocol: 'tcp', payload: patternBytes(payload), gsoSize: 1448 });
const tcp6 = (payload = 3000): SuperpacketSpec => ({ family: 6, protocol: 'tcp', payload: patternBytes(payload), gsoSize: 1448 });
const udp4 = (payload = 3000): SuperpacketSpec => ({ family: 4, protocol: 'udp', payload: patternBytes(payload), gsoSize: 1200 });

/** A read with its virtio header rewritten. */
function withHeader(read: Uint8Array, fields: Partial<Record<'flags' | 'gsoType' | 'hdrLen' | 'gsoSize' | 'csumStart' | 'csumOffset', number>>): Uint8Array {
  const out = read.slice();
  const view = new DataView(out.buffer);
  const le = true;
  const cur = {
    flags: out[0],
    gsoType: out[1],
    hdrLen: view.getUint16(2, le),
    gsoSize: view.getUint16(4, le),
    csumStart: view.getUint16(6, le),
    csumOffset: view.getUint16(8, le),
    ...fields,
  };
  writeVirtioNetHdr(out, 0, cur.flags, cur.gsoType, cur.hdrLen, cur.gsoSize, cur.csumStart, cur.csumOffset);
  return out;
}

/** A read with packet byte `at` (relative to the IP header) set to `value`. */
function withPacketByte(read: Uint8Array, at: number, value: number): Uint8Array {
  const out = read.slice();
  out[VIRTIO_NET_HDR_LEN + at] = value;
  return out;
}

const errorRows: ErrorRow[] = [
  { name: 'a read shorter than the header', input: () => new Uint8Array(9), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'gso_size 0', input: () => withHeader(virtioRead(tcp4()), { gsoSize: 0 }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'gso_type UDP (UFO) is not supported', input: () => withHeader(virtioRead(udp4()), { gsoType: VIRTIO_NET_HDR_GSO_UDP }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'unknown gso_type 2', input: () => withHeader(virtioRead(tcp4()), { gsoType: 2 }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'ECN bit alone', input: () => withHeader(virtioRead(tcp4()), { gsoType: VIRTIO_NET_HDR_GSO_ECN }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'UDP_L4 with the ECN bit', input: () => withHeader(virtioRead(udp4()), { gsoType: VIRTIO_NET_HDR_GSO_UDP_L4 | VIRTIO_NET_HDR_GSO_ECN }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'TCPV4 on an IPv6 packet', input: () => withHeader(virtioRead(tcp6()), { gsoType: VIRTIO_NET_HDR_GSO_TCPV4 }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'TCPV6 on an IPv4 packet', input: () => withHeader(virtioRead(tcp4()), { gsoType: VIRTIO_NET_HDR_GSO_TCPV6 }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'UDP_L4 on IP version 5', input: () => withPacketByte(virtioRead(udp4()), 0, 0x55), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'TCPV4 on an IPv4 UDP packet', input: () => withHeader(virtioRead(udp4()), { gsoType: VIRTIO_NET_HDR_GSO_TCPV4, csumOffset: 16 }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'TCPV6 on an IPv6 packet whose upper layer is UDP', input: () => withPacketByte(virtioRead(tcp6()), 6, IpProtocol.UDP), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'csum_start is not the L4 header', input: () => withHeader(virtioRead(tcp4()), { csumStart: 24 }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'csum_offset 6 on TCP', input: () => withHeader(virtioRead(tcp4()), { csumOffset: 6 }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  { name: 'checksum offset past the end (GSO)', input: () => withHeader(virtioRead(tcp4()), { csumOffset: 3100 }), code: 'ERR_TUN_BAD_VIRTIO_HDR' },
  {
    name: 'checksum offset past the end (GSO_NONE)',
    input: () => withHeader(buildVirtioPacket(buildUdpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 2 })), { csumStart: 20, csumOffset: 7 }),
    code: 'ERR_TUN_BAD_VIRTIO_HDR',
  },
  {
    name: 'segments longer than 65535 (gso_size 65500 on a 70000-byte superpacket)',
    input: () => {
      const small = virtioRead({ ...tcp4(40), gsoSize: 65500 });
      const big = new Uint8Array(VIRTIO_NET_HDR_LEN + 70_000);
      big.set(small);
      return big;
    },
    code: 'ERR_TUN_BAD_VIRTIO_HDR',
  },
  { name: 'TCP data offset 16 (below 20)', input: () => withPacketByte(virtioRead(tcp4()), 20 + 12, 0x40), code: 'ERR_TUN_BAD_TCP_HEADER' },
  { name: 'TCP data offset 0', input: () => withPacketByte(virtioRead(tcp6()), 40 + 12, 0x00), code: 'ERR_TUN_BAD_TCP_HEADER' },
  { name: 'TCP data offset 60 past the end', input: () => virtioRead(tcp4(0)).map((b, i) => (i === VIRTIO_NET_HDR_LEN + 32 ? 0xf0 : b)), code: 'ERR_TUN_BAD_TCP_HEADER' },
  {
    name: 'TCP header cut short (no NEEDS_CSUM, so only the TCP check sees it)',
    input: () => withHeader(virtioRead(tcp4(0)).subarray(0, VIRTIO_NET_HDR_LEN + 30), { flags: 0 }),
    code: 'ERR_TUN_BAD_TCP_HEADER',
  },
  { name: 'an IPv4 fragment', input: () => withPacketByte(virtioRead(tcp4()), 6, 0x20), code: 'ERR_TUN_MALFORMED_PACKET' },
  { name: 'IPv4 IHL 4', input: () => withPacketByte(virtioRead(tcp4()), 0, 0x44), code: 'ERR_TUN_MALFORMED_PACKET' },
  { name: 'IPv4 packet of 12 bytes', input: () => withHeader(virtioRead(tcp4()).subarray(0, 22), { flags: 0 }), code: 'ERR_TUN_MALFORMED_PACKET' },
  {
    name: 'IPv6 extension header running past the end',
    input: () => withHeader(withPacketByte(virtioRead(tcp6(100)), 6, IpProtocol.HOPOPTS).map((b, i) => (i === VIRTIO_NET_HDR_LEN + 41 ? 255 : b)), { flags: 0 }),
    code: 'ERR_TUN_MALFORMED_PACKET',
  },
  { name: 'more segments than bufs', input: () => virtioRead(tcp4(5 * 1448)), bufs: 4, code: 'ERR_TUN_TOO_MANY_SEGMENTS' },
  { name: 'more segments than sizes', input: () => virtioRead(tcp4(5 * 1448)), sizes: 4, code: 'ERR_TUN_TOO_MANY_SEGMENTS' },
  { name: 'no buffer at all for GSO_NONE', input: () => buildVirtioPacket(buildUdpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 2 })), bufs: 0, code: 'ERR_TUN_TOO_MANY_SEGMENTS' },
  { name: 'a middle buffer one byte too small', input: () => virtioRead(tcp4(3000)), capacities: [1600, 1487, 1600], code: 'ERR_TUN_BUFFER_TOO_SMALL' },
  { name: 'the last buffer one byte too small', input: () => virtioRead(tcp4(3000)), capacities: [1488, 1488, 143], code: 'ERR_TUN_BUFFER_TOO_SMALL' },
  { name: 'the offset leaves no room', input: () => virtioRead(tcp4(3000)), capacities: [1500, 1500, 1500], offset: 13, code: 'ERR_TUN_BUFFER_TOO_SMALL' },
  {
    name: 'GSO_NONE packet larger than bufs[0]',
    input: () => buildVirtioPacket(buildUdpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 2, payload: 100 })),
    capacities: [127],
    code: 'ERR_TUN_BUFFER_TOO_SMALL',
  },
  { name: 'a negative offset', input: () => virtioRead(tcp4()), offset: -1, code: 'ERR_TUN_INVALID_ARGUMENT' },
];

t.test('error rows: the documented code, and nothing written', async (t) => {
  for (const row of errorRows) {
    t.test(row.name, async (t) => {
      const input = row.input();
      const capacities = row.capacities ?? Array.from({ length: row.bufs ?? 8 }, () => 1600);
      const out = new GuardedBuffers(capacities);
      const before = out.snapshot();
      const sizes = new Int32Array(row.sizes ?? capacities.length).fill(-7);
      t.throws(() => handleVirtioRead(input, out.bufs, sizes, row.offset ?? 0), { code: row.code });
      t.same(out.snapshot(), before, 'output buffers untouched');
      t.ok(out.intact(), 'guards intact');
      t.ok(sizes.every((s) => s === -7), 'sizes untouched');
    });
  }
});

t.test('boundary rows that must succeed', async (t) => {
  t.test('buffers exactly as large as their segments', async (t) => {
    const out = new GuardedBuffers([1488, 1488, 144], 16);
    t.equal(handleVirtioRead(virtioRead(tcp4(3000)), out.bufs, new Int32Array(3), 0), 3);
    t.ok(out.intact());
  });
  t.test('exactly as many bufs as segments', async (t) => {
    const out = GuardedBuffers.uniform(5, 1500);
    t.equal(handleVirtioRead(virtioRead(tcp4(5 * 1448)), out.bufs, [0, 0, 0, 0, 0], 0), 5);
  });
  t.test('NEEDS_CSUM clear on a superpacket: the checksums are computed anyway', async (t) => {
    const spec = tcp6(2000);
    const input = withHeader(virtioRead(spec), { flags: 0, csumStart: 0, csumOffset: 0 });
    const out = GuardedBuffers.uniform(2, 1600);
    const sizes = new Int32Array(2);
    t.equal(handleVirtioRead(input, out.bufs, sizes, 0), 2);
    const expected = expectedSegments(spec);
    t.same(out.bufs[0].subarray(0, sizes[0]), expected[0]);
    t.same(out.bufs[1].subarray(0, sizes[1]), expected[1]);
  });
  t.test('an IPv4 superpacket whose total length field is stale (it is rewritten)', async (t) => {
    const spec = tcp4(3000);
    const input = withPacketByte(virtioRead(spec), 2, 0);
    const out = GuardedBuffers.uniform(3, 1600);
    const sizes = new Int32Array(3);
    handleVirtioRead(input, out.bufs, sizes, 0);
    t.same(out.bufs[2].subarray(0, sizes[2]), expectedSegments(spec)[2]);
  });
  t.test('NEEDS_CSUM flag value', async (t) => {
    t.equal(virtioRead(tcp4())[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
    t.same(superpacket(tcp4()).length, 3040);
  });
});
