/**
 * The responder as a table: each request built with @tunpipe/offload's packet
 * builders must become, byte for byte, the reply the builders make (addresses
 * and ports swapped, type changed, checksums valid); everything else is left
 * untouched. Random bytes never throw and are never changed unless they were
 * an echo request.
 */
import t from 'tap';
import fc from 'fast-check';
import { buildIcmpPacket, buildIpPacket, buildTcpPacket, buildUdpPacket, Icmpv4Type, Icmpv6Type, IpProtocol } from '@tunpipe/offload';
import { answerEcho, replyInPlace, type EchoKind } from './responder.js';

const v4 = { a: '198.18.0.1', b: '198.18.0.2' };
const v6 = { a: 'fd00::1', b: 'fd00::2' };

/** [name, request, expected reply (null: no reply), kind, summary pattern]. */
const CASES: Array<[string, Uint8Array, Uint8Array | null, EchoKind, RegExp]> = [
  [
    'ICMPv4 echo request',
    buildIcmpPacket({ src: v4.a, dst: v4.b, id: 7, identifier: 0x1234, sequence: 3, payload: 56 }),
    buildIcmpPacket({ src: v4.b, dst: v4.a, id: 7, type: Icmpv4Type.ECHO_REPLY, identifier: 0x1234, sequence: 3, payload: 56 }),
    'icmp4',
    /^ICMPv4 echo request 198\.18\.0\.1 → 198\.18\.0\.2 id=4660 seq=3$/,
  ],
  [
    'ICMPv6 echo request',
    buildIcmpPacket({ src: v6.a, dst: v6.b, identifier: 9, sequence: 1, payload: 56 }),
    buildIcmpPacket({ src: v6.b, dst: v6.a, type: Icmpv6Type.ECHO_REPLY, identifier: 9, sequence: 1, payload: 56 }),
    'icmp6',
    /^ICMPv6 echo request fd00::1 → fd00::2 id=9 seq=1$/,
  ],
  [
    'UDP to port 7 over IPv4',
    buildUdpPacket({ src: v4.a, dst: v4.b, srcPort: 40000, dstPort: 7, payload: new TextEncoder().encode('hello') }),
    buildUdpPacket({ src: v4.b, dst: v4.a, srcPort: 7, dstPort: 40000, payload: new TextEncoder().encode('hello') }),
    'udp',
    /^UDP echo 198\.18\.0\.1 → 198\.18\.0\.2 \(5 B\)$/,
  ],
  [
    'UDP to port 7 over IPv6',
    buildUdpPacket({ src: v6.a, dst: v6.b, srcPort: 40000, dstPort: 7, payload: 1000 }),
    buildUdpPacket({ src: v6.b, dst: v6.a, srcPort: 7, dstPort: 40000, payload: 1000 }),
    'udp',
    /^UDP echo fd00::1 → fd00::2 \(1000 B\)$/,
  ],
  ['ICMPv4 echo reply', buildIcmpPacket({ src: v4.a, dst: v4.b, type: Icmpv4Type.ECHO_REPLY }), null, 'icmp4', /^ICMPv4 type 0 /],
  ['ICMPv6 router solicitation', buildIcmpPacket({ src: v6.a, dst: 'ff02::2', type: 133 }), null, 'icmp6', /^ICMPv6 type 133 /],
  ['UDP to port 9', buildUdpPacket({ src: v4.a, dst: v4.b, srcPort: 1, dstPort: 9 }), null, 'udp', /^UDP 198\.18\.0\.1 → 198\.18\.0\.2:9$/],
  ['TCP', buildTcpPacket({ src: v4.a, dst: v4.b, srcPort: 1, dstPort: 7 }), null, 'other', /^IPv4 protocol 6 /],
  ['IPv6 no next header', buildIpPacket({ src: v6.a, dst: v6.b, protocol: IpProtocol.NONE }), null, 'other', /^IPv6 next header 59 /],
  ['not IP', new Uint8Array([0x00, 1, 2, 3]), null, 'other', /^not IP \(4 B\)$/],
  ['empty', new Uint8Array(0), null, 'other', /^not IP \(0 B\)$/],
  ['truncated IPv4 header', new Uint8Array([0x45, 0, 0, 40, 0, 0]), null, 'malformed', /^ERR_TUN_\w+: /],
];

t.test('requests become exactly the builders\' replies; the rest is left alone', async (t) => {
  for (const [name, request, reply, kind, summary] of CASES) {
    const a = request.slice();
    const len = replyInPlace(a);
    if (reply === null) {
      t.equal(len, 0, `${name}: no reply`);
      t.same(a, request, `${name}: untouched`);
    } else {
      t.equal(len, reply.length, `${name}: reply length`);
      t.same(a.subarray(0, len), reply, `${name}: the reply, byte for byte`);
    }
    const b = request.slice();
    const result = answerEcho(b);
    t.equal(result.kind, kind, `${name}: kind`);
    t.match(result.summary, summary, `${name}: summary`);
    t.equal(result.replyLength, len, `${name}: answerEcho agrees with replyInPlace`);
    t.same(b, a, `${name}: and rewrites the same bytes`);
  }
});

t.test('fuzz: random bytes never throw, and are left alone unless they were an echo request', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0x45, 0x60, 0x00), (bytes, first) => {
      const packet = bytes.slice();
      if (packet.length > 0) packet[0] = first;
      const before = packet.slice();
      const len = replyInPlace(packet);
      const described = answerEcho(before.slice());
      if (len === 0) return Buffer.compare(packet, before) === 0 && described.replyLength === 0;
      return described.replyLength === len && len <= packet.length;
    }),
    { numRuns: 5000 },
  );
});
