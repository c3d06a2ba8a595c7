/**
 * parsePacket / parseHeaders: the headers of every row of the packet table, as
 * offload's views; malformed packets counted, never thrown into the stream.
 */
import t from 'tap';
import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { isTunError } from '@tunpipe/offload';
import { packetOf } from '../src/packet.js';
import { parseCounters, parsePacket, tryParsePacket } from '../src/packet-headers.js';
import { parseHeaders } from '../src/parse-headers.js';
import { ethernetFrames, goodPackets, malformedPackets } from './packet-table.js';

for (const row of goodPackets()) {
  t.test(`parses ${row.name}`, async (t) => {
    const h = parsePacket(packetOf(row.bytes))!;
    t.equal(h.ipVersion, row.ipVersion);
    t.equal(h.ip.version, row.ipVersion, 'the IP view is of that version');
    t.equal(h.protocol, row.protocol);
    const l4 = h.tcp ?? h.udp;
    t.same([l4?.sourcePort, l4?.destinationPort], [row.srcPort, row.dstPort], 'ports');
    t.equal(h.tcp !== undefined, row.protocol === 6 && row.srcPort !== undefined);
    t.equal(h.icmpv4 !== undefined, row.protocol === 1);
    t.equal(h.icmpv6 !== undefined, row.protocol === 58);
    t.equal(h.laterFragment, row.name.includes('later fragment'));
    t.equal(h.ip.bytes, row.bytes, 'views read the packet bytes, not a copy');
  });
}

for (const [name, bytes] of malformedPackets()) {
  t.test(`rejects ${name}`, async (t) => {
    t.throws(() => parsePacket(packetOf(bytes)), { code: 'ERR_TUN_MALFORMED_PACKET' });
    const counters = parseCounters();
    t.equal(tryParsePacket(packetOf(bytes), 'ip', counters), undefined);
    t.same(counters, { parsed: 0, malformed: 1, nonIp: 0 });
  });
}

t.test('ethernet link: IP frames parse past the Ethernet header, ARP is counted as non-IP', async (t) => {
  const [tcp4, , tcp6] = goodPackets();
  const counters = parseCounters();
  const v4 = ethernetFrames(tcp4!.bytes);
  const v6 = ethernetFrames(tcp6!.bytes);
  const h4 = tryParsePacket(packetOf(v4.ipFrame), 'ethernet', counters)!;
  t.equal(h4.ethernet?.sourceMac, '02:00:00:00:00:01');
  t.same([h4.ipVersion, h4.tcp?.destinationPort], [4, 80]);
  t.same([tryParsePacket(packetOf(v6.ipFrame), 'ethernet', counters)?.tcp?.destinationPort], [443]);
  t.equal(tryParsePacket(packetOf(v4.arpFrame), 'ethernet', counters), undefined);
  t.equal(tryParsePacket(packetOf(new Uint8Array(10)), 'ethernet', counters), undefined, 'runt frame');
  t.same(counters, { parsed: 2, malformed: 1, nonIp: 1 });
  t.throws(() => parsePacket(packetOf(v4.ipFrame), 'tap' as 'ip'), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});

t.test('parseHeaders: malformed packets are counted and reported, the stream goes on', async (t) => {
  const good = goodPackets();
  const bad = malformedPackets();
  // good, bad, good, bad, ...
  const interleaved = Array.from({ length: Math.max(good.length, bad.length) }, (_, i) => [good[i]?.bytes, bad[i]?.[1]])
    .flat()
    .filter((b): b is Uint8Array => b !== undefined)
    .map((b) => packetOf(b));
  const counters = parseCounters();
  const reported: string[] = [];
  const out = await lastValueFrom(
    from(interleaved).pipe(parseHeaders({ counters, onMalformed: (_p, err) => reported.push(err.code) }), toArray()),
  );
  t.equal(out.length, good.length, 'every good packet came through');
  t.same(out.map((h) => h.protocol), good.map((r) => r.protocol), 'in order');
  t.equal(counters.malformed, interleaved.length - good.length);
  t.ok(reported.every((c) => c === 'ERR_TUN_MALFORMED_PACKET'));
});

t.test('property: random bytes never throw out of parseHeaders, and count exactly once each', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 30 }), fc.constantFrom<'ip' | 'ethernet'>('ip', 'ethernet'), async (list, link) => {
      const counters = parseCounters();
      const out = await lastValueFrom(from(list.map((b) => packetOf(b))).pipe(parseHeaders({ link, counters }), toArray()));
      return counters.parsed === out.length && counters.parsed + counters.malformed + counters.nonIp === list.length;
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

t.test('mutated good packets: parse or MALFORMED, nothing else', async (t) => {
  const seeds = goodPackets().map((r) => r.bytes);
  fc.assert(
    fc.property(fc.nat(seeds.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (which, at, v, cut) => {
      const b = seeds[which]!.slice();
      b[at % b.length] = v;
      const bytes = b.subarray(0, b.length - (cut % 8));
      try {
        parsePacket(packetOf(bytes));
        return true;
      } catch (err) {
        return isTunError(err, 'ERR_TUN_MALFORMED_PACKET');
      }
    }),
    { numRuns: 5000 },
  );
  t.pass();
});
