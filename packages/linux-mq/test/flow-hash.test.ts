/** flowHash: same flow, same hash; what it reads and what it ignores. */
import t from 'tap';
import fc from 'fast-check';
import { buildUdpPacket, buildTcpPacket, buildIcmpPacket } from '@tunpipe/offload';
import { flowHash } from '../src/flow-hash.js';

const udp = (o: Partial<{ src: string; dst: string; srcPort: number; dstPort: number; payload: number; ttl: number; id: number }> = {}) =>
  buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1000, dstPort: 2000, payload: 16, ...o });

t.test('table: which changes move the hash', async (t) => {
  const base = flowHash(udp());
  const rows: Array<{ name: string; packet: Uint8Array; same: boolean }> = [
    { name: 'other payload length', packet: udp({ payload: 900 }), same: true },
    { name: 'other TTL and IPv4 ID', packet: udp({ ttl: 3, id: 77 }), same: true },
    { name: 'other source port', packet: udp({ srcPort: 1001 }), same: false },
    { name: 'other destination port', packet: udp({ dstPort: 2001 }), same: false },
    { name: 'other source address', packet: udp({ src: '198.18.0.9' }), same: false },
    { name: 'other destination address', packet: udp({ dst: '198.18.0.9' }), same: false },
    {
      name: 'TCP instead of UDP, same ports',
      packet: buildTcpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1000, dstPort: 2000 }),
      same: false,
    },
  ];
  for (const r of rows) t.equal(flowHash(r.packet) === base, r.same, r.name);
});

t.test('IPv6 flows: ports and addresses count', async (t) => {
  const a = buildUdpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 1, dstPort: 2, payload: 8 });
  const b = buildUdpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 1, dstPort: 2, payload: 300 });
  const c = buildUdpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 3, dstPort: 2, payload: 8 });
  const d = buildUdpPacket({ src: 'fd00::1', dst: 'fd00::3', srcPort: 1, dstPort: 2, payload: 8 });
  t.equal(flowHash(a), flowHash(b));
  t.not(flowHash(a), flowHash(c));
  t.not(flowHash(a), flowHash(d));
});

t.test('non-IP and truncated input hash to 0 without throwing', async (t) => {
  t.equal(flowHash(new Uint8Array(0)), 0);
  t.equal(flowHash(new Uint8Array([0x45, 0, 0])), 0);
  t.equal(flowHash(new Uint8Array(60)), 0);
  t.type(flowHash(buildIcmpPacket({ src: '198.18.0.1', dst: '198.18.0.2' })), 'number');
});

t.test('property: flows spread evenly over 4 queues', async (t) => {
  const counts = [0, 0, 0, 0];
  fc.assert(
    fc.property(fc.integer({ min: 1024, max: 65535 }), (port) => {
      counts[flowHash(udp({ srcPort: port })) % 4]!++;
      return true;
    }),
    { numRuns: 4000 },
  );
  for (const c of counts) t.ok(c > 800 && c < 1200, `bucket ${c} of 4000`);
});
