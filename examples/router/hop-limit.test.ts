/**
 * The router's per-packet step as a specification: TTL / hop limit decremented,
 * IPv4 header checksum still valid (RFC 1624 incremental equals a full
 * recomputation), expired and malformed packets left untouched.
 */
import t from 'tap';
import fc from 'fast-check';
import { buildIcmpPacket, buildUdpPacket, internetChecksum } from '@tunpipe/offload';
import { decrementHopLimit, updateChecksum16, HopResult, type ChecksumUpdate } from './hop-limit.js';

const AT = 10; // packets sit after a virtio header area in the router's slots

function slot(packet: Uint8Array): Uint8Array {
  const buf = new Uint8Array(AT + packet.length);
  buf.set(packet, AT);
  return buf;
}

const rows: Array<{ name: string; packet: Uint8Array; ttlAt: number; result: number; ttlAfter: number }> = [
  { name: 'IPv4 TTL 64', packet: buildIcmpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 64 }), ttlAt: 8, result: HopResult.FORWARD, ttlAfter: 63 },
  { name: 'IPv4 TTL 2', packet: buildUdpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 2, srcPort: 1, dstPort: 2 }), ttlAt: 8, result: HopResult.FORWARD, ttlAfter: 1 },
  { name: 'IPv4 TTL 255 with options', packet: buildIcmpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 255, ipOptions: new Uint8Array([1, 1, 1, 0]) }), ttlAt: 8, result: HopResult.FORWARD, ttlAfter: 254 },
  { name: 'IPv4 TTL 1 expires', packet: buildIcmpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 1 }), ttlAt: 8, result: HopResult.EXPIRED, ttlAfter: 1 },
  { name: 'IPv4 TTL 0 expires', packet: buildIcmpPacket({ src: '198.18.1.1', dst: '198.18.2.1', ttl: 0 }), ttlAt: 8, result: HopResult.EXPIRED, ttlAfter: 0 },
  { name: 'IPv6 hop limit 64', packet: buildIcmpPacket({ src: 'fd00:1::1', dst: 'fd00:2::1', ttl: 64 }), ttlAt: 7, result: HopResult.FORWARD, ttlAfter: 63 },
  { name: 'IPv6 hop limit 1 expires', packet: buildUdpPacket({ src: 'fd00:1::1', dst: 'fd00:2::1', ttl: 1, srcPort: 1, dstPort: 2 }), ttlAt: 7, result: HopResult.EXPIRED, ttlAfter: 1 },
];

for (const update of ['incremental', 'full'] as ChecksumUpdate[]) {
  t.test(`decrementHopLimit, ${update} checksum update`, async (t) => {
    for (const row of rows) {
      const buf = slot(row.packet);
      const before = buf.slice();
      const result = decrementHopLimit(buf, AT, row.packet.length, update);
      t.equal(result, row.result, `${row.name}: result`);
      t.equal(buf[AT + row.ttlAt], row.ttlAfter, `${row.name}: TTL / hop limit`);
      if (row.result !== HopResult.FORWARD) t.same(buf, before, `${row.name}: left unchanged`);
      if (row.packet[0]! >> 4 === 4) {
        const ihl = (row.packet[0]! & 15) * 4;
        t.equal(internetChecksum(buf, AT, AT + ihl), 0, `${row.name}: IPv4 header checksum verifies`);
      }
      const changed = [...buf.keys()].filter((i) => buf[i] !== before[i]);
      t.ok(changed.every((i) => i === AT + row.ttlAt || i === AT + 10 || i === AT + 11), `${row.name}: only TTL and checksum bytes change`);
    }
  });
}

t.test('malformed input is refused, untouched', async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['version 5', Uint8Array.of(0x50, ...new Array<number>(39).fill(64))],
    ['IPv4 shorter than 20 bytes', buildIcmpPacket({ src: '198.18.1.1', dst: '198.18.2.1' }).subarray(0, 19)],
    ['IPv4 IHL 4', Uint8Array.of(0x44, ...new Array<number>(27).fill(64))],
    ['IPv4 IHL beyond the packet', Uint8Array.of(0x4f, ...new Array<number>(27).fill(64))],
    ['IPv6 shorter than 40 bytes', buildIcmpPacket({ src: 'fd00:1::1', dst: 'fd00:2::1' }).subarray(0, 39)],
  ];
  for (const [name, packet] of cases) {
    const buf = slot(packet);
    const before = buf.slice();
    t.equal(decrementHopLimit(buf, AT, packet.length, 'incremental'), HopResult.MALFORMED, name);
    t.same(buf, before, `${name}: unchanged`);
  }
});

t.test('property: the incremental update equals a full recomputation for every IPv4 header', async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.integer({ min: 2, max: 255 }),
      (raw, ttl) => {
        const header = raw.slice();
        header[0] = 0x45;
        header[8] = ttl;
        header[10] = 0;
        header[11] = 0;
        const cs = internetChecksum(header);
        header[10] = cs >> 8;
        header[11] = cs & 0xff;
        const a = slot(header);
        const b = slot(header);
        decrementHopLimit(a, AT, 20, 'incremental');
        decrementHopLimit(b, AT, 20, 'full');
        return a.every((v, i) => v === b[i]) && internetChecksum(a, AT, AT + 20) === 0;
      },
    ),
    { numRuns: 2000 },
  );
  t.pass('2000 random headers');
});

t.test('updateChecksum16 (RFC 1624 eqn. 3): worked examples', async (t) => {
  // Header checksum 0xb861 over a TTL/protocol word 0x4006 (TTL 64, TCP); TTL 63 -> word 0x3f06.
  t.equal(updateChecksum16(0xb861, 0x4006, 0x3f06), 0xb961);
  // 0x0000 and 0xffff are both zero in one's complement: the sum, so the checksum, is unchanged.
  t.equal(updateChecksum16(0x0000, 0x0000, 0xffff), 0x0000);
  t.equal(updateChecksum16(0x1234, 0x5678, 0x5678), 0x1234, 'no change, no update');
});
