/**
 * ICMP Time Exceeded built in place over an expired packet: addressed from the
 * router back to the sender, valid IP and ICMP checksums, the original packet
 * quoted; never about an ICMP error or to a multicast sender.
 */
import t from 'tap';
import { buildIcmpPacket, buildUdpPacket, internetChecksum, ipv6PseudoHeaderSum, parseIpv4, parseIpv6, formatIpv4, formatIpv6 } from '@tunpipe/offload';
import { writeTimeExceeded } from './time-exceeded.js';

const AT = 10;
const CAPACITY = 2048;

function slot(packet: Uint8Array): Uint8Array {
  const buf = new Uint8Array(AT + CAPACITY);
  buf.set(packet, AT);
  return buf;
}

t.test('IPv4: from the router to the sender, quoting header + data, checksums valid', async (t) => {
  for (const payload of [0, 8, 1400]) {
    const expired = buildUdpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 1, srcPort: 4000, dstPort: 33434, payload });
    const buf = slot(expired);
    const n = writeTimeExceeded(buf, AT, expired.length, parseIpv4('198.18.1.254'));
    const p = buf.subarray(AT, AT + n);
    t.equal(n, Math.min(28 + expired.length, 576), `payload ${payload}: length`);
    t.equal(p[0], 0x45);
    t.equal((p[2]! << 8) | p[3]!, n, 'total length');
    t.equal(p[9], 1, 'protocol ICMP');
    t.equal(formatIpv4(p.subarray(12, 16)), '198.18.1.254', 'from the router');
    t.equal(formatIpv4(p.subarray(16, 20)), '198.18.1.1', 'to the sender');
    t.equal(internetChecksum(p, 0, 20), 0, 'IP header checksum');
    t.equal(p[20], 11, 'type time exceeded');
    t.equal(p[21], 0, 'code: TTL exceeded in transit');
    t.equal(internetChecksum(p, 20, n), 0, 'ICMP checksum');
    t.same(p.subarray(28, n), expired.subarray(0, n - 28), 'the expired packet quoted');
  }
});

t.test('IPv6: from the router to the sender, checksum over the pseudo-header', async (t) => {
  for (const payload of [0, 100, 1400]) {
    const expired = buildIcmpPacket({ src: 'fd00:1::1', dst: 'fd00:2::1', ttl: 1, identifier: 7, sequence: 1, payload });
    const buf = slot(expired);
    const n = writeTimeExceeded(buf, AT, expired.length, parseIpv6('fd00:1::fe'));
    const p = buf.subarray(AT, AT + n);
    t.equal(n, Math.min(48 + expired.length, 1280), `payload ${payload}: length`);
    t.equal(p[0]! >> 4, 6);
    t.equal((p[4]! << 8) | p[5]!, n - 40, 'payload length');
    t.equal(p[6], 58, 'next header ICMPv6');
    t.equal(formatIpv6(p.subarray(8, 24)), 'fd00:1::fe', 'from the router');
    t.equal(formatIpv6(p.subarray(24, 40)), 'fd00:1::1', 'to the sender');
    t.equal(p[40], 3, 'type time exceeded');
    t.equal(internetChecksum(p, 40, n, ipv6PseudoHeaderSum(p, 0, 58, n - 40)), 0, 'ICMPv6 checksum');
    t.same(p.subarray(48, n), expired.subarray(0, n - 48), 'the expired packet quoted');
  }
});

t.test('no error is sent about errors, non-first fragments or to multicast senders; nor without room', async (t) => {
  const v4 = parseIpv4('198.18.1.254');
  const v6 = parseIpv6('fd00:1::fe');
  const cases: Array<[string, Uint8Array, Uint8Array, number?]> = [
    ['ICMPv4 error', buildIcmpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 1, type: 11 }), v4],
    ['ICMPv6 error', buildIcmpPacket({ src: 'fd00:1::1', dst: 'fd00:2::1', ttl: 1, type: 1 }), v6],
    ['IPv4 non-first fragment', buildUdpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 1, srcPort: 1, dstPort: 2, fragmentOffset: 8 }), v4],
    ['IPv4 multicast sender', buildUdpPacket({ src: '224.0.0.1', dst: '198.18.2.1', ttl: 1, srcPort: 1, dstPort: 2 }), v4],
    ['IPv6 multicast sender', buildUdpPacket({ src: 'ff02::1', dst: 'fd00:2::1', ttl: 1, srcPort: 1, dstPort: 2 }), v6],
    ['IPv4 packet, IPv6 source', buildUdpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 1, srcPort: 1, dstPort: 2 }), v6],
    ['no room in the slot', buildUdpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 1, srcPort: 1, dstPort: 2 }), v4, 0],
  ];
  for (const [name, packet, source, room] of cases) {
    const buf = room === undefined ? slot(packet) : Uint8Array.from([...new Array<number>(AT).fill(0), ...packet]);
    const before = buf.slice();
    t.equal(writeTimeExceeded(buf, AT, packet.length, source), 0, name);
    t.same(buf, before, `${name}: unchanged`);
  }
});
