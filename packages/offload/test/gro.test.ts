/**
 * GRO, handleGro: one row per rule. Each row lists the packets of a batch and,
 * for every packet that must be written, which input packets it must hold (in
 * sequence order). For every row the test checks the returned indices and
 * lengths, the virtio header of every written packet (zeroed, or the GSO header
 * derived from the merged packets), that a coalesced packet splits back into
 * exactly the packets it absorbed, that an uncoalesced packet is unchanged,
 * and that nothing outside the buffers was written.
 */
import t, { type Test } from 'tap';
import {
  buildIpPacket,
  buildTcpPacket,
  buildUdpPacket,
  decodeVirtioNetHdr,
  GroCandidate,
  groCandidate,
  GroTable,
  handleGro,
  handleVirtioRead,
  IpProtocol,
  Ipv4Packet,
  ipv4PseudoHeaderSum,
  Ipv6Packet,
  ipv6PseudoHeaderSum,
  TcpFlag,
  UDP_GRO_MAX_SEGMENTS,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VIRTIO_NET_HDR_LEN,
  type TcpPacketOptions,
  type UdpPacketOptions,
} from '../src/index.js';
import { GuardedBuffers } from './support/guarded-buffers.js';
import { ADDRESSES } from './support/superpackets.js';

const OFFSET = VIRTIO_NET_HDR_LEN;
const { ACK, PSH, SYN, FIN, RST, URG } = TcpFlag;

type TcpOverrides = Partial<TcpPacketOptions>;
type UdpOverrides = Partial<UdpPacketOptions>;

/** A TCP segment of flow 1 -> 1 (unless overridden) acknowledging 1, 100 payload bytes. */
function tcp4(seq: number, o: TcpOverrides = {}): Uint8Array {
  return buildTcpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 1, ack: 1, flags: ACK, seq, payload: 100, ...o });
}
function tcp6(seq: number, o: TcpOverrides = {}): Uint8Array {
  return buildTcpPacket({ ...ADDRESSES[6], srcPort: 1, dstPort: 1, ack: 1, flags: ACK, seq, payload: 100, ...o });
}
function udp4(o: UdpOverrides = {}): Uint8Array {
  return buildUdpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 1, payload: 100, ...o });
}
function udp6(o: UdpOverrides = {}): Uint8Array {
  return buildUdpPacket({ ...ADDRESSES[6], srcPort: 1, dstPort: 1, payload: 100, ...o });
}
/** A copy with the L4 checksum's low byte flipped. */
function badL4Checksum(p: Uint8Array): Uint8Array {
  const c = p.slice();
  const l4 = c[0] >> 4 === 4 ? (c[0] & 15) * 4 : 40;
  const at = l4 + (c[c[0] >> 4 === 4 ? 9 : 6] === IpProtocol.TCP ? 17 : 7);
  c[at] ^= 0xff;
  return c;
}

/** A copy with the IPv4 header checksum's low byte flipped (split and GRO rewrite that field, the L4 bytes stay). */
function badIpChecksum(p: Uint8Array): Uint8Array {
  const c = p.slice();
  c[11] ^= 0xff;
  return c;
}

interface Expect {
  /** Index of the written packet. */
  index: number;
  /** Input packets it holds, in sequence order (one entry: written as it is). */
  holds: number[];
}

interface GroRow {
  name: string;
  packets: Uint8Array[];
  udp?: boolean;
  tcp?: boolean;
  capacities?: number[];
  /** GroOptions.checksumsValid: packets the caller vouches for. */
  checksumsValid?: number[];
  want: Expect[];
}

/** Everything merges into index 0, in input order. */
const all = (n: number): Expect[] => [{ index: 0, holds: Array.from({ length: n }, (_, i) => i) }];
/** Nothing merges. */
const none = (n: number): Expect[] => Array.from({ length: n }, (_, i) => ({ index: i, holds: [i] }));

const rows: GroRow[] = [
  {
    name: 'multiple protocols and flows, without UDP GRO',
    packets: [
      tcp4(1), // 0  flow A
      tcp4(101), // 1  flow A
      tcp4(201, { srcPort: 2 }), // 2  flow B
      tcp6(1), // 3  flow C
      tcp6(101), // 4  flow C
      tcp6(201, { srcPort: 2 }), // 5  flow D
      udp4(), // 6
      udp4(), // 7
      udp6(), // 8
      udp6(), // 9
    ],
    want: [
      { index: 0, holds: [0, 1] },
      { index: 2, holds: [2] },
      { index: 3, holds: [3, 4] },
      { index: 5, holds: [5] },
      { index: 6, holds: [6] },
      { index: 7, holds: [7] },
      { index: 8, holds: [8] },
      { index: 9, holds: [9] },
    ],
  },
  {
    name: 'multiple protocols and flows, with UDP GRO',
    udp: true,
    packets: [tcp4(1), tcp4(101), tcp4(201, { srcPort: 2 }), tcp6(1), tcp6(101), tcp6(201, { srcPort: 2 }), udp4(), udp4(), udp6(), udp6()],
    want: [
      { index: 0, holds: [0, 1] },
      { index: 2, holds: [2] },
      { index: 3, holds: [3, 4] },
      { index: 5, holds: [5] },
      { index: 6, holds: [6, 7] },
      { index: 8, holds: [8, 9] },
    ],
  },
  {
    name: 'checksumsValid: a vouched-for packet is merged without its checksums being read (its IPv4 checksum is wrong)',
    packets: [tcp4(1), badIpChecksum(tcp4(101)), tcp4(201)],
    checksumsValid: [1, 1, 1],
    want: all(3),
  },
  {
    name: 'checksumsValid: the same bad packet not vouched for is refused among vouched-for ones',
    packets: [tcp4(1), badIpChecksum(tcp4(101)), tcp4(201)],
    checksumsValid: [1, 0, 1],
    want: none(3),
  },
  {
    name: 'checksumsValid: a bad L4 checksum not vouched for is refused (IPv6)',
    packets: [tcp6(1), badL4Checksum(tcp6(101)), tcp6(201)],
    checksumsValid: [1, 0, 1],
    want: none(3),
  },
  {
    name: 'checksumsValid: a bad first packet not vouched for never becomes a superpacket',
    packets: [badIpChecksum(tcp4(1)), tcp4(101), tcp4(201)],
    checksumsValid: [0, 1, 1],
    want: [{ index: 0, holds: [0] }, { index: 1, holds: [1, 2] }],
  },
  {
    name: 'checksumsValid: packets past the end of the array are verified',
    packets: [tcp4(1), tcp4(101), badIpChecksum(tcp4(201))],
    checksumsValid: [1, 1],
    want: [{ index: 0, holds: [0, 1] }, { index: 2, holds: [2] }],
  },
  {
    name: 'checksumsValid: UDP, vouched for and not',
    udp: true,
    packets: [udp4(), badIpChecksum(udp4()), udp4(), udp4({ srcPort: 2 }), badL4Checksum(udp4({ srcPort: 2 }))],
    checksumsValid: [1, 1, 1, 1, 0],
    want: [{ index: 0, holds: [0, 1, 2] }, { index: 3, holds: [3] }, { index: 4, holds: [4] }],
  },
  {
    name: 'TCP off (no TSO): nothing coalesced, UDP still is',
    tcp: false,
    udp: true,
    packets: [tcp4(1), tcp4(101), udp4(), udp4()],
    want: [{ index: 0, holds: [0] }, { index: 1, holds: [1] }, { index: 2, holds: [2, 3] }],
  },
  {
    name: 'PSH interleaved: PSH ends a group, the next group starts after it',
    packets: [tcp4(1), tcp4(101, { flags: ACK | PSH }), tcp4(201), tcp4(301, { flags: ACK | PSH }), tcp6(1), tcp6(101, { flags: ACK | PSH }), tcp6(201)],
    want: [
      { index: 0, holds: [0, 1] },
      { index: 2, holds: [2, 3] },
      { index: 4, holds: [4, 5] },
      { index: 6, holds: [6] },
    ],
  },
  {
    name: 'invalid checksum on the first item: it is dropped from the table, the rest merge',
    packets: [badL4Checksum(tcp4(1)), tcp4(101), tcp4(201), badL4Checksum(tcp6(1)), tcp6(101), tcp6(201), badL4Checksum(udp4()), udp4(), udp4()],
    udp: true,
    want: [
      { index: 0, holds: [0] },
      { index: 1, holds: [1, 2] },
      { index: 3, holds: [3] },
      { index: 4, holds: [4, 5] },
      { index: 6, holds: [6] },
      { index: 7, holds: [7, 8] },
    ],
  },
  {
    name: 'invalid checksum on a later packet: it is written alone and breaks the sequence',
    packets: [tcp4(1), badL4Checksum(tcp4(101)), tcp4(201), tcp6(1), badL4Checksum(tcp6(101)), tcp6(201), udp4(), badL4Checksum(udp4()), udp4()],
    udp: true,
    want: none(9),
  },
  {
    name: 'invalid IPv4 header checksum is never merged',
    packets: [
      tcp4(1),
      (() => {
        const p = tcp4(101);
        p[10] ^= 1;
        return p;
      })(),
    ],
    want: none(2),
  },
  {
    name: 'out of order: prepend, then append',
    packets: [tcp4(101), tcp4(1), tcp4(201), tcp6(101), tcp6(1), tcp6(201)],
    want: [
      { index: 0, holds: [1, 0, 2] },
      { index: 3, holds: [4, 3, 5] },
    ],
  },
  {
    name: 'a PSH packet is never prepended',
    packets: [tcp4(101), tcp4(1, { flags: ACK | PSH })],
    want: none(2),
  },
  {
    name: 'a PSH item keeps PSH when a packet is prepended to it',
    packets: [tcp4(101, { flags: ACK | PSH }), tcp4(1)],
    want: [{ index: 0, holds: [1, 0] }],
  },
  {
    name: 'a short segment ends the group; a longer one never follows a shorter one',
    packets: [tcp4(1), tcp4(101, { payload: 50 }), tcp4(151), tcp4(1001, { payload: 50 }), tcp4(1051, { payload: 100 })],
    want: [
      { index: 0, holds: [0, 1] },
      { index: 2, holds: [2] },
      { index: 3, holds: [3] },
      { index: 4, holds: [4] },
    ],
  },
  {
    name: 'unequal TTL',
    packets: [tcp4(1, { ttl: 64 }), tcp4(101, { ttl: 63 }), tcp6(1, { ttl: 64 }), tcp6(101, { ttl: 63 })],
    want: none(4),
  },
  { name: 'unequal ToS', packets: [tcp4(1, { tos: 0 }), tcp4(101, { tos: 0x10 })], want: none(2) },
  { name: 'unequal DF', packets: [tcp4(1, { df: true }), tcp4(101, { df: false })], want: none(2) },
  { name: 'MF set (a fragment)', packets: [tcp4(1, { mf: true }), tcp4(101, { mf: true })], want: none(2) },
  { name: 'fragment offset set', packets: [tcp4(1), tcp4(101, { fragmentOffset: 8 })], want: none(2) },
  { name: 'unequal hop limit', packets: [tcp6(1, { ttl: 64 }), tcp6(101, { ttl: 1 })], want: none(2) },
  { name: 'unequal traffic class', packets: [tcp6(1, { tos: 0 }), tcp6(101, { tos: 0x01 })], want: none(2) },
  { name: 'unequal flow label', packets: [tcp6(1, { flowLabel: 1 }), tcp6(101, { flowLabel: 2 })], want: none(2) },
  { name: 'UDP: unequal TTL', udp: true, packets: [udp4({ ttl: 64 }), udp4({ ttl: 63 })], want: none(2) },
  { name: 'different ACK numbers are different flows', packets: [tcp4(1, { ack: 1 }), tcp4(101, { ack: 2 })], want: none(2) },
  {
    name: 'different options',
    packets: [tcp4(1, { tcpOptions: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 1) }), tcp4(101, { tcpOptions: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1) })],
    want: none(2),
  },
  {
    name: 'equal options merge',
    packets: [tcp4(1, { tcpOptions: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 1) }), tcp4(101, { tcpOptions: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 1) })],
    want: all(2),
  },
  { name: 'different option lengths', packets: [tcp4(1, { tcpOptions: new Uint8Array(4) }), tcp4(101)], want: none(2) },
  {
    name: 'SYN, FIN, RST, URG are never coalesced',
    packets: [tcp4(1, { flags: SYN | ACK }), tcp4(101, { flags: ACK | FIN }), tcp4(201, { flags: ACK | RST }), tcp4(301, { flags: ACK | URG }), tcp4(401, { flags: ACK | PSH | FIN })],
    want: none(5),
  },
  { name: 'pure ACKs (no payload) are never coalesced', packets: [tcp4(1, { payload: 0 }), tcp4(1, { payload: 0 }), tcp6(1, { payload: 0 })], want: none(3) },
  { name: 'sequence wrap-around', packets: [tcp4(2 ** 32 - 100), tcp4(0), tcp4(100)], want: all(3) },
  { name: 'differing IPv4 IDs still merge', packets: [tcp4(1, { id: 7 }), tcp4(101, { id: 1000 }), tcp4(201, { id: 3 })], want: all(3) },
  {
    name: 'insufficient capacity: the first buffer only fits itself',
    packets: [tcp4(1), tcp4(101), tcp4(201)],
    capacities: [OFFSET + 140, OFFSET + 1000, OFFSET + 1000],
    want: [{ index: 0, holds: [0] }, { index: 1, holds: [1, 2] }],
  },
  {
    name: 'insufficient capacity after one merge',
    packets: [tcp4(1), tcp4(101), tcp4(201), tcp4(301)],
    capacities: [OFFSET + 240, OFFSET + 200, OFFSET + 400, OFFSET + 400],
    want: [{ index: 0, holds: [0, 1] }, { index: 2, holds: [2, 3] }],
  },
  {
    name: 'total IP length capped at 65535 (46 x 1448 would exceed it)',
    packets: Array.from({ length: 50 }, (_, i) => tcp4(1 + i * 1448, { payload: 1448 })),
    capacities: Array.from({ length: 50 }, () => OFFSET + 70_000),
    want: [
      { index: 0, holds: Array.from({ length: 45 }, (_, i) => i) },
      { index: 45, holds: [45, 46, 47, 48, 49] },
    ],
  },
  {
    name: 'UDP: a short datagram ends the group, a longer one does not follow a shorter one',
    udp: true,
    packets: [udp4(), udp4({ payload: 50 }), udp4(), udp6({ payload: 50 }), udp6({ payload: 100 })],
    want: [{ index: 0, holds: [0, 1] }, { index: 2, holds: [2] }, { index: 3, holds: [3] }, { index: 4, holds: [4] }],
  },
  {
    name: 'UDP is never reordered: only the newest item of a flow takes datagrams',
    udp: true,
    packets: [udp4({ payload: 100 }), udp4({ payload: 200 }), udp4({ payload: 100 }), udp4({ payload: 100 })],
    want: [{ index: 0, holds: [0] }, { index: 1, holds: [1, 2] }, { index: 3, holds: [3] }],
  },
  {
    name: 'UDP with a zero (absent) checksum is never merged',
    udp: true,
    packets: [udp4({ checksum: false }), udp4({ checksum: false }), udp4()],
    want: none(3),
  },
  {
    name: `UDP: at most ${UDP_GRO_MAX_SEGMENTS} datagrams per superpacket`,
    udp: true,
    packets: Array.from({ length: UDP_GRO_MAX_SEGMENTS + 3 }, () => udp6({ payload: 10 })),
    want: [
      { index: 0, holds: Array.from({ length: UDP_GRO_MAX_SEGMENTS }, (_, i) => i) },
      { index: UDP_GRO_MAX_SEGMENTS, holds: [UDP_GRO_MAX_SEGMENTS, UDP_GRO_MAX_SEGMENTS + 1, UDP_GRO_MAX_SEGMENTS + 2] },
    ],
  },
  {
    name: 'UDP length field must match the IP payload',
    udp: true,
    packets: [
      udp4(),
      (() => {
        const p = udp4();
        p[25] -= 1; // UDP length 107 inside a 108-byte IP payload
        return p;
      })(),
    ],
    want: none(2),
  },
  {
    name: 'IPv4 with options and IPv6 with an extension header are not candidates',
    packets: [
      tcp4(1, { ipOptions: Uint8Array.of(1, 1, 1, 1) }),
      tcp4(101, { ipOptions: Uint8Array.of(1, 1, 1, 1) }),
      tcp6(1, { extensionHeaders: [{ type: IpProtocol.DSTOPTS }] }),
      tcp6(101, { extensionHeaders: [{ type: IpProtocol.DSTOPTS }] }),
    ],
    want: none(4),
  },
  {
    name: 'IP length fields that do not match the packet',
    packets: [
      tcp4(1),
      (() => {
        const p = Uint8Array.of(...tcp4(101), 0); // one byte of padding: total length 140, packet 141
        return p;
      })(),
    ],
    want: none(2),
  },
  {
    name: 'two flows interleaved each coalesce',
    packets: [tcp4(1), tcp4(1, { srcPort: 2 }), tcp4(101), tcp4(101, { srcPort: 2 }), tcp4(201), tcp4(201, { srcPort: 2 })],
    want: [{ index: 0, holds: [0, 2, 4] }, { index: 1, holds: [1, 3, 5] }],
  },
  {
    name: 'a segment that fits no item starts a new one, later packets may join either',
    packets: [tcp4(1), tcp4(1001), tcp4(101), tcp4(1101)],
    want: [{ index: 0, holds: [0, 2] }, { index: 1, holds: [1, 3] }],
  },
];

function checkRow(t: Test, row: GroRow): void {
  const capacities = row.capacities ?? row.packets.map(() => OFFSET + 66_000);
  const out = new GuardedBuffers(capacities);
  row.packets.forEach((p, i) => out.bufs[i].set(p, OFFSET));
  // Garbage where the headers go: a written header must overwrite it.
  for (const b of out.bufs) b.fill(0x77, 0, OFFSET);
  const lengths = row.packets.map((p) => p.length);
  const table = new GroTable();
  const options = { tcp: row.tcp ?? true, udp: row.udp ?? false, checksumsValid: row.checksumsValid };
  const written = handleGro(out.bufs, lengths, OFFSET, table, options);
  t.same(written, row.want.map((w) => w.index), 'indices to write');
  t.ok(out.intact(), 'nothing written outside the buffers');
  for (const w of row.want) {
    const buf = out.bufs[w.index];
    const hdr = decodeVirtioNetHdr(buf, undefined, OFFSET - VIRTIO_NET_HDR_LEN);
    const held = w.holds.map((i) => row.packets[i]);
    const expectedLength = held.reduce((a, p, k) => a + (k === 0 ? p.length : p.length - headerLength(p)), 0);
    t.equal(lengths[w.index], expectedLength, `packet ${w.index}: length`);
    if (held.length === 1) {
      t.same(hdr, { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 }, `packet ${w.index}: zeroed header`);
      t.same(buf.subarray(OFFSET, OFFSET + lengths[w.index]), held[0], `packet ${w.index}: unchanged`);
      continue;
    }
    const first = held[0];
    const v6 = first[0] >> 4 === 6;
    const isTcp = first[v6 ? 6 : 9] === IpProtocol.TCP;
    t.same(
      hdr,
      {
        flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
        gsoType: isTcp ? (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) : VIRTIO_NET_HDR_GSO_UDP_L4,
        hdrLen: headerLength(first),
        gsoSize: first.length - headerLength(first),
        csumStart: v6 ? 40 : 20,
        csumOffset: isTcp ? 16 : 6,
      },
      `packet ${w.index}: GSO header`,
    );
    // The packet itself, as the kernel will see it: IP lengths and the IPv4
    // header checksum are final, the L4 checksum field holds the folded
    // pseudo-header sum (CHECKSUM_PARTIAL).
    const len = lengths[w.index];
    const iph = v6 ? 40 : 20;
    if (v6) {
      t.equal(new Ipv6Packet(buf, OFFSET, len).payloadLength, len - 40, `packet ${w.index}: IPv6 payload length`);
    } else {
      const ip = new Ipv4Packet(buf, OFFSET, len);
      t.equal(ip.totalLength, len, `packet ${w.index}: IPv4 total length`);
      t.ok(ip.verifyChecksum(), `packet ${w.index}: IPv4 header checksum`);
    }
    const partial = v6
      ? ipv6PseudoHeaderSum(buf, OFFSET, isTcp ? 6 : 17, len - iph)
      : ipv4PseudoHeaderSum(buf, OFFSET, isTcp ? 6 : 17, len - iph);
    const field = OFFSET + iph + (isTcp ? 16 : 6);
    t.equal((buf[field] << 8) | buf[field + 1], partial, `packet ${w.index}: partial checksum`);
    if (!isTcp) t.equal((buf[OFFSET + iph + 4] << 8) | buf[OFFSET + iph + 5], len - iph, `packet ${w.index}: UDP length`);
    // Split it back: it must give exactly the packets it absorbed (IPv4 IDs
    // become consecutive from the first, so IDs and header checksums are
    // compared separately).
    const bufs = held.map(() => new Uint8Array(70_000));
    const sizes = new Int32Array(held.length);
    const n = handleVirtioRead(buf.subarray(0, OFFSET + lengths[w.index]), bufs, sizes, 0);
    t.equal(n, held.length, `packet ${w.index}: splits into ${held.length}`);
    let same = true;
    for (let k = 0; k < n; k++) {
      const got = bufs[k].slice(0, sizes[k]);
      const want = held[k].slice();
      if (!v6) {
        t.equal((got[4] << 8) | got[5], (((first[4] << 8) | first[5]) + k) & 0xffff, `segment ${k}: IPv4 ID`);
        for (const at of [4, 5, 10, 11]) got[at] = want[at] = 0;
      }
      if (got.length !== want.length || got.some((b, i) => b !== want[i])) same = false;
    }
    t.ok(same, `packet ${w.index}: splits back into the absorbed packets`);
  }
}

function headerLength(p: Uint8Array): number {
  const v6 = p[0] >> 4 === 6;
  const l4 = v6 ? 40 : (p[0] & 15) * 4;
  return p[v6 ? 6 : 9] === IpProtocol.TCP ? l4 + (p[l4 + 12] >> 4) * 4 : l4 + 8;
}

t.test('GRO rows', async (t) => {
  for (const row of rows) t.test(row.name, async (t) => checkRow(t, row));
});

t.test('checksumsValid is not kept: the next pass without it verifies again', async (t) => {
  const packets = [tcp4(1), badIpChecksum(tcp4(101))];
  const table = new GroTable();
  const run = (options: { checksumsValid?: number[] }): number[] => {
    const bufs = packets.map((p) => {
      const b = new Uint8Array(OFFSET + 66_000);
      b.set(p, OFFSET);
      return b;
    });
    return [...handleGro(bufs, packets.map((p) => p.length), OFFSET, table, options)];
  };
  t.same(run({ checksumsValid: [1, 1] }), [0], 'vouched for: merged');
  t.equal(table.checksumsValid, undefined, 'the table drops the array when the pass ends');
  t.same(run({}), [0, 1], 'same table, no option: the bad packet is refused');
});

t.test('candidate table', async (t) => {
  const trim = (p: Uint8Array, n: number) => p.subarray(0, n);
  const cases: [string, Uint8Array, boolean, GroCandidate][] = [
    ['tcp4 of 40 bytes', trim(tcp4(1, { payload: 0 }), 40), false, GroCandidate.TCP4],
    ['tcp4 one byte too short (39)', trim(tcp4(1, { payload: 0 }), 39), false, GroCandidate.NONE],
    ['udp4 of 28 bytes', trim(udp4({ payload: 0 }), 28), true, GroCandidate.UDP4],
    ['udp4 one byte too short (27)', trim(udp4({ payload: 0 }), 27), true, GroCandidate.NONE],
    ['tcp6 of 60 bytes', trim(tcp6(1, { payload: 0 }), 60), false, GroCandidate.TCP6],
    ['tcp6 one byte too short (59)', trim(tcp6(1, { payload: 0 }), 59), false, GroCandidate.NONE],
    ['udp6 of 48 bytes', trim(udp6({ payload: 0 }), 48), true, GroCandidate.UDP6],
    ['udp6 one byte too short (47)', trim(udp6({ payload: 0 }), 47), true, GroCandidate.NONE],
    ['udp4 without UDP GRO', udp4(), false, GroCandidate.NONE],
    ['udp6 without UDP GRO', udp6(), false, GroCandidate.NONE],
    ['IPv4 with options', tcp4(1, { ipOptions: new Uint8Array(4) }), true, GroCandidate.NONE],
    ['IPv6 with an extension header', tcp6(1, { extensionHeaders: [{ type: IpProtocol.HOPOPTS }] }), true, GroCandidate.NONE],
    ['GRE over IPv4', buildIpPacket({ ...ADDRESSES[4], protocol: IpProtocol.GRE, payload: new Uint8Array(40) }), true, GroCandidate.NONE],
    ['GRE over IPv6', buildIpPacket({ ...ADDRESSES[6], protocol: IpProtocol.GRE, payload: new Uint8Array(40) }), true, GroCandidate.NONE],
    ['ICMPv6', buildIpPacket({ ...ADDRESSES[6], protocol: IpProtocol.ICMPV6, payload: new Uint8Array(40) }), true, GroCandidate.NONE],
    [
      'version 0',
      (() => {
        const p = tcp4(1);
        p[0] = 0x05;
        return p;
      })(),
      true,
      GroCandidate.NONE,
    ],
  ];
  for (const [name, packet, udp, want] of cases) {
    t.test(name, async (t) => {
      t.equal(groCandidate(packet, 0, packet.length, true, udp), want);
      // Through handleGro: a non-candidate is written as it is with a zeroed header, never merged with its twin.
      if (want === GroCandidate.NONE) {
        const bufs = [packet, packet].map((p) => {
          const b = new Uint8Array(OFFSET + 200);
          b.fill(0x77, 0, OFFSET);
          b.set(p, OFFSET);
          return b;
        });
        t.same(handleGro(bufs, [packet.length, packet.length], OFFSET, new GroTable(), { udp }), [0, 1]);
        t.same([...bufs[1].subarray(0, OFFSET)], new Array(OFFSET).fill(0));
      }
    });
  }
});

t.test('argument errors leave everything untouched', async (t) => {
  const packets = [tcp4(1), tcp4(101)];
  const rows: [string, number, number[] | Int32Array, number[]][] = [
    ['offset 9 leaves no room for the header', 9, [140, 140], [200, 200]],
    ['negative offset', -1, [140, 140], [200, 200]],
    ['lengths shorter than bufs', OFFSET, [140], [200, 200]],
    ['a packet running past its buffer', OFFSET, [140, 141], [200, OFFSET + 140]],
    ['a negative length', OFFSET, [140, -1], [200, 200]],
  ];
  for (const [name, offset, lengths, capacities] of rows) {
    t.test(name, async (t) => {
      const out = new GuardedBuffers(capacities);
      packets.forEach((p, i) => out.bufs[i].set(p, OFFSET));
      const before = out.snapshot();
      t.throws(() => handleGro(out.bufs, lengths, offset, new GroTable()), { code: 'ERR_TUN_INVALID_ARGUMENT' });
      t.same(out.snapshot(), before);
      t.ok(out.intact());
    });
  }
});

t.test('the table and its returned array are reused; the table grows for large batches', async (t) => {
  const table = new GroTable(2);
  const batch = (n: number) => {
    const bufs = Array.from({ length: n }, (_, i) => {
      const b = new Uint8Array(OFFSET + 2000);
      b.set(tcp4(1 + i * 100), OFFSET);
      return b;
    });
    return { bufs, lengths: new Int32Array(n).fill(140) };
  };
  const a = batch(5);
  const first = handleGro(a.bufs, a.lengths, OFFSET, table);
  t.same(first, [0]);
  t.equal(a.lengths[0], 40 + 500);
  t.ok(table.capacity >= 5, 'grew past its initial capacity');
  const b = batch(3);
  b.bufs[1][OFFSET + 33] |= ACK | SYN; // not a candidate: splits the run
  const second = handleGro(b.bufs, b.lengths, OFFSET, table);
  t.equal(second, first, 'the same array, refilled');
  t.same(second, [0, 1, 2]);
  t.same(handleGro([], [], OFFSET, table), []);
});
