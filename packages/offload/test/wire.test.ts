/**
 * Wire views: each checked constructor accepts exactly the well-formed headers
 * (one row per defect it must refuse), getters read every field of packets built
 * by the builders, setters keep the view valid, checksums fill and verify. The
 * builders are checked against hand-written bytes and against the views.
 */
import t, { type Test } from 'tap';
import {
  buildEthernetFrame,
  buildIcmpPacket,
  buildIpPacket,
  buildTcpPacket,
  buildUdpPacket,
  EthernetFrame,
  EtherType,
  formatIpv4,
  formatIpv6,
  Icmpv4Message,
  Icmpv4Type,
  Icmpv6Message,
  Icmpv6Type,
  IpProtocol,
  Ipv4Packet,
  Ipv6Packet,
  parseIpv4,
  parseIpv6,
  parseMac,
  TcpFlag,
  TcpSegment,
  UdpDatagram,
} from '../src/index.js';
import { naiveChecksum } from './support/naive-checksum.js';

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));
const v4 = { src: '192.0.2.1', dst: '198.51.100.2' };
const v6 = { src: '2001:db8::1', dst: '2001:db8:1::2' };

/** A mutated copy of `bytes`. */
function edit(bytes: Uint8Array, f: (b: Uint8Array) => void): Uint8Array {
  const c = bytes.slice();
  f(c);
  return c;
}

type Row = { name: string; make: () => unknown; code?: string };

function constructorTable(t: Test, rows: Row[]): void {
  for (const row of rows) {
    t.test(row.name, async (t) => {
      if (row.code) t.throws(row.make, { code: row.code });
      else t.doesNotThrow(row.make);
    });
  }
}

t.test('Ipv4Packet checked constructor', async (t) => {
  const good = buildUdpPacket({ ...v4, srcPort: 1, dstPort: 2, payload: 10 }); // 38 bytes
  constructorTable(t, [
    { name: 'well-formed', make: () => new Ipv4Packet(good) },
    { name: 'trailing padding is allowed', make: () => new Ipv4Packet(Uint8Array.of(...good, 0, 0, 0)) },
    { name: 'at an offset inside a larger buffer', make: () => new Ipv4Packet(Uint8Array.of(9, 9, ...good), 2) },
    { name: '19 bytes', make: () => new Ipv4Packet(good.subarray(0, 19)), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'version 6', make: () => new Ipv4Packet(edit(good, (b) => (b[0] = 0x65))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'version 0', make: () => new Ipv4Packet(edit(good, (b) => (b[0] = 0x05))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'IHL 4', make: () => new Ipv4Packet(edit(good, (b) => (b[0] = 0x44))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'IHL past the bytes', make: () => new Ipv4Packet(edit(good, (b) => (b[0] = 0x4f))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'total length < header', make: () => new Ipv4Packet(edit(good, (b) => ((b[2] = 0), (b[3] = 19)))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'total length > bytes', make: () => new Ipv4Packet(edit(good, (b) => (b[3] = 39))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'range past the array', make: () => new Ipv4Packet(good, 1, good.length), code: 'ERR_TUN_INVALID_ARGUMENT' },
  ]);
});

t.test('Ipv4Packet getters, setters and checksum', async (t) => {
  const p = buildTcpPacket({ ...v4, srcPort: 1, dstPort: 2, id: 0xbeef, ttl: 33, tos: 0xb9, df: true, ipOptions: Uint8Array.of(1, 1, 1, 0), payload: 4 });
  const ip = new Ipv4Packet(p);
  t.same(
    {
      version: ip.version,
      headerLength: ip.headerLength,
      tos: ip.tos,
      dscp: ip.dscp,
      ecn: ip.ecn,
      totalLength: ip.totalLength,
      identification: ip.identification,
      dontFragment: ip.dontFragment,
      moreFragments: ip.moreFragments,
      fragmentOffset: ip.fragmentOffset,
      ttl: ip.ttl,
      protocol: ip.protocol,
      sourceAddress: ip.sourceAddress,
      destinationAddress: ip.destinationAddress,
      options: [...ip.options],
      payloadLength: ip.payload.length,
      checksumValid: ip.verifyChecksum(),
    },
    {
      version: 4,
      headerLength: 24,
      tos: 0xb9,
      dscp: 0x2e,
      ecn: 1,
      totalLength: 48,
      identification: 0xbeef,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 33,
      protocol: IpProtocol.TCP,
      sourceAddress: '192.0.2.1',
      destinationAddress: '198.51.100.2',
      options: [1, 1, 1, 0],
      payloadLength: 24,
      checksumValid: true,
    },
  );
  t.equal(ip.checksum, naiveChecksum(edit(p.subarray(0, 24), (b) => ((b[10] = 0), (b[11] = 0)))), 'builder checksum matches the reference');
  const frag = new Ipv4Packet(buildIpPacket({ ...v4, protocol: 17, mf: true, fragmentOffset: 1480, payload: new Uint8Array(8) }));
  t.equal(frag.moreFragments, true);
  t.equal(frag.fragmentOffset, 1480);

  ip.setIdentification(7);
  ip.setTtl(1);
  t.equal(ip.verifyChecksum(), false, 'stale checksum after a rewrite');
  ip.fillChecksum();
  t.equal(ip.verifyChecksum(), true);
  t.equal(ip.identification, 7);
  t.equal(ip.ttl, 1);
  ip.setTotalLength(30);
  t.equal(ip.payload.length, 6);
  t.throws(() => ip.setTotalLength(49), { code: 'ERR_TUN_INVALID_ARGUMENT' }, 'past the bytes');
  t.throws(() => ip.setTotalLength(23), { code: 'ERR_TUN_INVALID_ARGUMENT' }, 'below the header');
  t.throws(() => ip.setIdentification(0x10000), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  ip.setChecksum(0x1234);
  t.equal(ip.checksum, 0x1234);
});

t.test('Ipv6Packet checked constructor, getters, setters, extension headers', async (t) => {
  const good = buildUdpPacket({ ...v6, srcPort: 1, dstPort: 2, payload: 3, tos: 0xa5, flowLabel: 0xabcde, ttl: 9 });
  constructorTable(t, [
    { name: 'well-formed', make: () => new Ipv6Packet(good) },
    { name: '39 bytes', make: () => new Ipv6Packet(good.subarray(0, 39)), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'version 4', make: () => new Ipv6Packet(edit(good, (b) => (b[0] = 0x4a))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'version 0', make: () => new Ipv6Packet(edit(good, (b) => (b[0] = 0x0a))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'payload length past the bytes', make: () => new Ipv6Packet(edit(good, (b) => (b[5] += 1))), code: 'ERR_TUN_MALFORMED_PACKET' },
  ]);
  const ip = new Ipv6Packet(good.slice()); // the table rows above run later: keep `good` intact
  t.same(
    [ip.version, ip.trafficClass, ip.flowLabel, ip.payloadLength, ip.nextHeader, ip.hopLimit, ip.sourceAddress, ip.destinationAddress, ip.length],
    [6, 0xa5, 0xabcde, 11, IpProtocol.UDP, 9, '2001:db8::1', '2001:db8:1::2', 51],
  );
  t.same(ip.upperLayer(), { protocol: IpProtocol.UDP, offset: 40 });
  ip.setHopLimit(1);
  ip.setPayloadLength(8);
  t.equal(ip.hopLimit, 1);
  t.equal(ip.payload.length, 8);
  t.throws(() => ip.setPayloadLength(12), { code: 'ERR_TUN_INVALID_ARGUMENT' });

  const withExt = buildTcpPacket({
    ...v6,
    srcPort: 5,
    dstPort: 6,
    payload: 1,
    extensionHeaders: [{ type: IpProtocol.HOPOPTS, data: new Uint8Array(6) }, { type: IpProtocol.DSTOPTS, data: new Uint8Array(14) }],
  });
  const ext = new Ipv6Packet(withExt);
  t.equal(ext.nextHeader, IpProtocol.HOPOPTS);
  t.same(ext.upperLayer(), { protocol: IpProtocol.TCP, offset: 40 + 8 + 16 });
  const tcp = new TcpSegment(withExt, 64);
  t.ok(tcp.verifyChecksum(ext.pseudoHeaderSum(IpProtocol.TCP, tcp.length)), 'pseudo-header uses the upper-layer length');
  // Payload length cut to 10: the hop-by-hop header fits, the destination options do not.
  const cut = edit(withExt, (b) => ((b[4] = 0), (b[5] = 10)));
  t.equal(new Ipv6Packet(cut).upperLayer(), undefined, 'a chain running past the payload');
});

t.test('TcpSegment checked constructor, getters, setters, checksum', async (t) => {
  const p = buildTcpPacket({
    ...v4,
    srcPort: 443,
    dstPort: 50000,
    seq: 0xfffffff0,
    ack: 0x01020304,
    flags: TcpFlag.ACK | TcpFlag.PSH | TcpFlag.CWR,
    window: 1234,
    urgentPointer: 7,
    tcpOptions: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2),
    payload: Uint8Array.of(0xde, 0xad, 0xbe),
  });
  const pristine = p.slice();
  const ip = new Ipv4Packet(p);
  const seg = new TcpSegment(p, ip.payloadOffset, ip.totalLength - ip.headerLength);
  t.same(
    [seg.sourcePort, seg.destinationPort, seg.sequenceNumber, seg.ackNumber, seg.headerLength, seg.window, seg.urgentPointer, seg.length],
    [443, 50000, 0xfffffff0, 0x01020304, 32, 1234, 7, 35],
  );
  t.same([seg.fin, seg.syn, seg.rst, seg.psh, seg.ack, seg.urg, seg.ece, seg.cwr], [false, false, false, true, true, false, false, true]);
  t.same([...seg.options], [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
  t.same([...seg.payload], [0xde, 0xad, 0xbe]);
  t.ok(seg.verifyChecksum(ip.pseudoHeaderSum()));
  seg.setSequenceNumber(5);
  t.notOk(seg.verifyChecksum(ip.pseudoHeaderSum()), 'stale after rewrite');
  seg.fillChecksum(ip.pseudoHeaderSum());
  t.ok(seg.verifyChecksum(ip.pseudoHeaderSum()));
  seg.setFlags(TcpFlag.FIN);
  seg.setAckNumber(0xffffffff);
  t.equal(seg.flags, TcpFlag.FIN);
  t.equal(seg.ackNumber, 0xffffffff);
  t.throws(() => seg.setSequenceNumber(2 ** 32), { code: 'ERR_TUN_INVALID_ARGUMENT' });

  const l4 = pristine.subarray(ip.payloadOffset);
  constructorTable(t, [
    { name: 'well-formed', make: () => new TcpSegment(l4) },
    { name: '19 bytes', make: () => new TcpSegment(l4.subarray(0, 19)), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'data offset 4 (16 bytes)', make: () => new TcpSegment(edit(l4, (b) => (b[12] = 0x40))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'data offset 0', make: () => new TcpSegment(edit(l4, (b) => (b[12] = 0x00))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'data offset 60 past the bytes', make: () => new TcpSegment(edit(l4, (b) => (b[12] = 0xf0))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'data offset exactly the bytes', make: () => new TcpSegment(l4.subarray(0, 32)) },
  ]);
});

t.test('UdpDatagram checked constructor, getters, setters, checksum', async (t) => {
  const p = buildUdpPacket({ ...v6, srcPort: 53, dstPort: 5353, payload: 5 });
  const pristine = p.slice();
  const ip = new Ipv6Packet(p);
  const udp = new UdpDatagram(p, 40);
  t.same([udp.sourcePort, udp.destinationPort, udp.length, udp.payload.length], [53, 5353, 13, 5]);
  t.ok(udp.verifyChecksum(ip.pseudoHeaderSum(IpProtocol.UDP, 13)));
  udp.setLength(10);
  t.equal(udp.payload.length, 2);
  udp.fillChecksum(ip.pseudoHeaderSum(IpProtocol.UDP, 10));
  t.ok(udp.verifyChecksum(ip.pseudoHeaderSum(IpProtocol.UDP, 10)));
  t.throws(() => udp.setLength(7), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => udp.setLength(14), { code: 'ERR_TUN_INVALID_ARGUMENT' });

  const noSum = buildUdpPacket({ ...v4, srcPort: 1, dstPort: 2, payload: 2, checksum: false });
  const d = new UdpDatagram(noSum, 20);
  t.equal(d.checksum, 0);
  t.notOk(d.verifyChecksum(0), 'zero means absent: never verifies');

  // A datagram whose checksum computes to 0 is sent as 0xffff (RFC 768):
  // length 12 plus the data word 0xfff3 sum to 0xffff with a zero pseudo-header sum.
  const zeroing = Uint8Array.of(0, 0, 0, 0, 0, 12, 0, 0, 0xff, 0xf3, 0, 0);
  const zd = new UdpDatagram(zeroing);
  zd.fillChecksum(0);
  t.equal(zd.checksum, 0xffff);
  t.ok(zd.verifyChecksum(0));

  const l4 = pristine.subarray(40);
  constructorTable(t, [
    { name: 'well-formed', make: () => new UdpDatagram(l4) },
    { name: '7 bytes', make: () => new UdpDatagram(l4.subarray(0, 7)), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'length field 7', make: () => new UdpDatagram(edit(l4, (b) => (b[5] = 7))), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'length field past the bytes', make: () => new UdpDatagram(edit(l4, (b) => (b[5] = 14))), code: 'ERR_TUN_MALFORMED_PACKET' },
  ]);
});

t.test('ICMPv4 and ICMPv6 views and builder', async (t) => {
  const p4 = buildIcmpPacket({ ...v4, identifier: 0x1234, sequence: 7, payload: 56 });
  const ip4 = new Ipv4Packet(p4);
  t.equal(ip4.protocol, IpProtocol.ICMP);
  const m4 = new Icmpv4Message(p4, 20, ip4.totalLength - 20);
  t.same([m4.type, m4.code, m4.identifier, m4.sequenceNumber, m4.restOfHeader, m4.payload.length], [Icmpv4Type.ECHO_REQUEST, 0, 0x1234, 7, 0x12340007, 56]);
  t.ok(m4.verifyChecksum());
  t.equal(m4.checksum, naiveChecksum(edit(p4.subarray(20), (b) => ((b[2] = 0), (b[3] = 0)))));
  m4.setChecksum(0);
  t.notOk(m4.verifyChecksum());
  m4.fillChecksum();
  t.ok(m4.verifyChecksum());

  const p6 = buildIcmpPacket({ ...v6, type: Icmpv6Type.ECHO_REPLY, identifier: 1, sequence: 2 });
  const ip6 = new Ipv6Packet(p6);
  t.equal(ip6.nextHeader, IpProtocol.ICMPV6);
  const m6 = new Icmpv6Message(p6, 40);
  t.same([m6.type, m6.identifier, m6.sequenceNumber, m6.firstWord], [Icmpv6Type.ECHO_REPLY, 1, 2, 0x00010002]);
  t.ok(m6.verifyChecksum(ip6.pseudoHeaderSum(IpProtocol.ICMPV6, 8)));
  t.notOk(m6.verifyChecksum(0), 'ICMPv6 needs the pseudo-header');

  constructorTable(t, [
    { name: 'ICMPv4 8 bytes', make: () => new Icmpv4Message(new Uint8Array(8)) },
    { name: 'ICMPv4 7 bytes', make: () => new Icmpv4Message(new Uint8Array(7)), code: 'ERR_TUN_MALFORMED_PACKET' },
    { name: 'ICMPv6 7 bytes', make: () => new Icmpv6Message(new Uint8Array(7)), code: 'ERR_TUN_MALFORMED_PACKET' },
  ]);
});

t.test('EthernetFrame view and builder', async (t) => {
  const ipPacket = buildUdpPacket({ ...v6, srcPort: 1, dstPort: 2 });
  const frame = buildEthernetFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:5e:10:00:01', payload: ipPacket });
  t.same([...frame.subarray(0, 14)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x86, 0xdd]);
  const eth = new EthernetFrame(frame);
  t.same([eth.destinationMac, eth.sourceMac, eth.etherType, eth.payload.length], ['ff:ff:ff:ff:ff:ff', '02:00:5e:10:00:01', EtherType.IPV6, ipPacket.length]);
  eth.setEtherType(EtherType.ARP);
  t.equal(eth.etherType, 0x0806);
  t.throws(() => new EthernetFrame(frame.subarray(0, 13)), { code: 'ERR_TUN_MALFORMED_PACKET' });
  t.throws(() => parseMac('02:00:5e:10:00'), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});

t.test('builders produce the exact bytes of a hand-assembled packet', async (t) => {
  // IPv4/UDP, 192.0.2.1:1000 -> 198.51.100.2:2000, payload "hi", id 1, ttl 64, DF.
  const built = buildUdpPacket({ ...v4, id: 1, df: true, srcPort: 1000, dstPort: 2000, payload: Uint8Array.of(0x68, 0x69) });
  const expected = hex(`
    45 00 00 1e 00 01 40 00 40 11 0000 c0 00 02 01 c6 33 64 02
    03 e8 07 d0 00 0a 0000 68 69`);
  const ipSum = naiveChecksum(expected, 0, 20);
  expected[10] = ipSum >> 8;
  expected[11] = ipSum & 0xff;
  // UDP checksum over the pseudo-header, laid out by hand.
  const pseudo = hex('c0000201 c6336402 00 11 000a');
  const udpSum = naiveChecksum(Uint8Array.of(...pseudo, ...expected.subarray(20)));
  expected[26] = udpSum >> 8;
  expected[27] = udpSum & 0xff;
  t.same(built, expected);
});

t.test('IP address text forms', async (t) => {
  const rows: [string, string][] = [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fd00::', 'fd00::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ];
  for (const [input, canonical] of rows) t.equal(formatIpv6(parseIpv6(input)), canonical, input);
  t.equal(formatIpv4(parseIpv4('198.51.100.255')), '198.51.100.255');
  for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d']) t.throws(() => parseIpv4(bad), { code: 'ERR_TUN_INVALID_ARGUMENT' }, bad);
  for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7']) {
    t.throws(() => parseIpv6(bad), { code: 'ERR_TUN_INVALID_ARGUMENT' }, bad);
  }
});
