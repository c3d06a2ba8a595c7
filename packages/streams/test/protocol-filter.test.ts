/**
 * Protocol filters and flow keys over the packet table: every filter against every
 * row (table-driven), ports, Ethernet framing, and flow grouping with idle timeouts
 * on virtual time.
 */
import t from 'tap';
import { from, lastValueFrom, mergeMap, map, toArray, type MonoTypeOperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { packetOf, type Packet } from '../src/packet.js';
import { parseCounters, parsePacket } from '../src/packet-headers.js';
import { filterProtocol, icmp, ipv4, ipv6, packetMatcher, tcp, udp } from '../src/protocol-filter.js';
import { flowKey, flowKeyOf } from '../src/flow-key.js';
import { groupByFlow } from '../src/group-by-flow.js';
import { ethernetFrames, goodPackets, malformedPackets } from './packet-table.js';

const rows = goodPackets();
const names = async (packets: Packet[], op: MonoTypeOperatorFunction<Packet>): Promise<string[]> => {
  const byBytes = new Map(rows.map((r) => [r.bytes, r.name]));
  const out = await lastValueFrom(from(packets).pipe(op, toArray()));
  return out.map((p) => byBytes.get(p.data) ?? '?');
};

t.test('each filter keeps exactly the rows it describes', async (t) => {
  const packets = rows.map((r) => packetOf(r.bytes));
  const cases: Array<[string, MonoTypeOperatorFunction<Packet>, (r: (typeof rows)[number]) => boolean]> = [
    ['ipv4()', ipv4(), (r) => r.ipVersion === 4],
    ['ipv6()', ipv6(), (r) => r.ipVersion === 6],
    ['tcp()', tcp(), (r) => r.protocol === 6],
    ['udp()', udp(), (r) => r.protocol === 17],
    ['icmp()', icmp(), (r) => r.protocol === 1 || r.protocol === 58],
    ['icmp({ ipVersion: 6 })', icmp({ ipVersion: 6 }), (r) => r.protocol === 58],
    ['tcp({ port: 80 })', tcp({ port: 80 }), (r) => r.protocol === 6 && (r.srcPort === 80 || r.dstPort === 80)],
    ['tcp({ dstPort: 80 })', tcp({ dstPort: 80 }), (r) => r.protocol === 6 && r.dstPort === 80],
    ['udp({ srcPort: 1000, ipVersion: 6 })', udp({ srcPort: 1000, ipVersion: 6 }), (r) => r.name.startsWith('udp6')],
    ['filterProtocol({ protocol: 47 })', filterProtocol({ protocol: 47 }), (r) => r.protocol === 47],
    ['ipv4({ protocol: "udp" })', ipv4({ protocol: 'udp' }), (r) => r.ipVersion === 4 && r.protocol === 17],
    ['udp({ port: 53 }) skips fragments without ports', udp({ port: 53 }), (r) => r.name === 'udp4'],
  ];
  for (const [name, op, want] of cases) {
    t.same(await names(packets, op), rows.filter(want).map((r) => r.name), name);
  }
});

t.test('malformed packets match nothing and are counted; Ethernet framing is understood', async (t) => {
  const counters = parseCounters();
  const bad = malformedPackets().map(([, b]) => packetOf(b));
  const out = await lastValueFrom(from(bad).pipe(ipv4({ counters }), toArray()));
  t.same(out, []);
  t.equal(counters.malformed, bad.length);
  const tcp4 = rows[0]!.bytes;
  const { ipFrame, arpFrame } = ethernetFrames(tcp4);
  const match = packetMatcher({ link: 'ethernet', protocol: 'tcp', dstPort: 80 });
  t.same([match(packetOf(ipFrame)), match(packetOf(arpFrame)), match(packetOf(tcp4))], [true, false, false]);
  t.throws(() => tcp({ port: 70000 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => filterProtocol({ protocol: 'sctp' as 'tcp' }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => filterProtocol({ ipVersion: 5 as 4 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});

t.test('flow keys: the documented format for every row', async (t) => {
  for (const r of rows) t.equal(flowKeyOf(parsePacket(packetOf(r.bytes))!), r.key, r.name);
});

t.test('bidirectional flow keys: both directions share one key, other flows do not', async (t) => {
  const [req, reply] = rows;
  const k = (b: Uint8Array) => flowKeyOf(parsePacket(packetOf(b))!, { bidirectional: true });
  t.equal(k(req!.bytes), k(reply!.bytes));
  t.equal(k(req!.bytes), `6|198.18.0.1|40000|198.18.0.2|80`, 'canonical order: the endpoint that sorts first');
  const echo = rows.find((r) => r.name === 'icmp4 echo request')!;
  const echoReply = rows.find((r) => r.name === 'icmp4 echo reply')!;
  t.equal(k(echo.bytes), k(echoReply.bytes), 'a ping and its reply share a flow');
  t.equal(new Set(rows.map((r) => k(r.bytes))).size, rows.length - 2, 'all other rows are distinct flows');
  const keyed = await lastValueFrom(from(rows.map((r) => packetOf(r.bytes))).pipe(flowKey({ bidirectional: true }), toArray()));
  t.same(keyed.map((x) => x.key), rows.map((r) => k(r.bytes)));
  t.ok(keyed.every((x) => x.headers.packet === x.packet));
});

t.test('groupByFlow: one group per flow, idle groups complete (virtual time)', async (t) => {
  const scheduler = new TestScheduler((a, b) => t.same(a, b));
  const [tcp4, tcp4reply, tcp6] = rows;
  const values = { a: packetOf(tcp4!.bytes), b: packetOf(tcp4reply!.bytes), c: packetOf(tcp6!.bytes) };
  scheduler.run(({ cold, expectObservable }) => {
    // a and b are one bidirectional flow, c another; idle timeout 10 ms.
    const source = cold('a 5ms b 1ms c 30ms a|', values);
    const events = source.pipe(
      groupByFlow({ bidirectional: true, idleMs: 10 }),
      mergeMap((group) => {
        const tag = group.key.startsWith('6|198') ? 'v4' : 'v6';
        return group.pipe(
          toArray(),
          map((packets) => `${tag}:${packets.length}`),
        );
      }),
    );
    // v4 group: a(0) b(6) -> idle completes at 16; v6: c(8) -> 18; a at 39 opens a
    // new v4 group that ends with the source at 40.
    expectObservable(events).toBe('16ms x 1ms y 21ms (z|)', { x: 'v4:2', y: 'v6:1', z: 'v4:1' });
  });
});
