/**
 * Packets that lie, coming FROM the device: an AF_PACKET socket in the namespace
 * (test/peers/packet-inject.ts) transmits exact bytes out of the TUN interface,
 * with PACKET_VNET_HDR superpackets whose GSO fields, lengths or TCP header lie,
 * so the queue worker reads them as it would read a hostile kernel's. On an
 * offload device in split mode, a lie that reaches the worker is either refused
 * whole and counted in `malformed`, or handed over only as valid packets (IPv4
 * and L4 checksums verify); some the kernel drops itself. After each lie a
 * marker datagram must still be read: the queue keeps working.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createNetns, requireNetAdmin } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { buildTcpPacket, buildUdpPacket, IpProtocol, Ipv4Packet, TcpFlag, TcpSegment, UdpDatagram } from '@tunpipe/offload';
import { drain, openIn, peerPath } from './net-fixtures.js';

/** struct virtio_net_hdr, <linux/virtio_net.h>, as hex (u16 fields little-endian: host order here). */
function vnet(f: { flags?: number; gso?: number; hdrLen?: number; gsoSize?: number; csumStart?: number; csumOffset?: number }): string {
  const h = Buffer.alloc(10);
  h[0] = f.flags ?? 0;
  h[1] = f.gso ?? 0;
  h.writeUInt16LE(f.hdrLen ?? 0, 2);
  h.writeUInt16LE(f.gsoSize ?? 0, 4);
  h.writeUInt16LE(f.csumStart ?? 0, 6);
  h.writeUInt16LE(f.csumOffset ?? 0, 8);
  return h.toString('hex');
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const mangled = (p: Uint8Array, edit: (b: Uint8Array, v: DataView) => void): Uint8Array => {
  const c = p.slice();
  edit(c, new DataView(c.buffer));
  return c;
};

// Packets the device "receives" (they travel 198.18.0.2 -> 198.18.0.1 out of the TUN interface).
const udp = (marker: number, payload = 200) =>
  buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 4000, dstPort: 5000, payload: new Uint8Array(payload).fill(marker) });
const tcp = (payload: number, extra: object = {}) =>
  buildTcpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 4001, dstPort: 5001, seq: 1, ack: 1, flags: TcpFlag.ACK, payload, ...extra });
/** Superpacket headers (NEEDS_CSUM; the worker computes full checksums when it splits). */
const TCP_GSO = { flags: 1, gso: 1, hdrLen: 40, csumStart: 20, csumOffset: 16 };
const UDP_GSO = { flags: 1, gso: 5, hdrLen: 28, csumStart: 20, csumOffset: 6 };

/** What the worker may make of a lie: refuse it (`malformed`), or it must hand over only valid packets. */
type Expect = 'malformed' | 'valid-or-nothing';

interface Lie {
  label: string;
  hdr: string;
  packet: Uint8Array;
  expect: Expect;
}

const LIES: Lie[] = [
  // Refused by the worker (the kernel lets them through):
  { label: 'TCP superpacket, gso_size 1 over 3000 bytes (3000 segments)', hdr: vnet({ ...TCP_GSO, gsoSize: 1 }), packet: tcp(3000), expect: 'malformed' },
  { label: 'UDP superpacket with gso_size above its payload', hdr: vnet({ ...UDP_GSO, gsoSize: 5000 }), packet: udp(9, 2000), expect: 'malformed' },
  // The kernel may drop these before the reader; what reaches the worker must come out valid:
  { label: 'TCP superpacket whose data offset is 15 words (options of junk)', hdr: vnet({ ...TCP_GSO, gsoSize: 1000 }), packet: mangled(tcp(3000), (b) => (b[32] = 0xf0)), expect: 'valid-or-nothing' },
  { label: 'TCP superpacket whose data offset is 2 words', hdr: vnet({ ...TCP_GSO, gsoSize: 1000 }), packet: mangled(tcp(3000), (b) => (b[32] = 0x20)), expect: 'valid-or-nothing' },
  { label: 'UDP superpacket whose IPv4 total length exceeds the read', hdr: vnet({ ...UDP_GSO, gsoSize: 500 }), packet: mangled(udp(9, 2000), (_, v) => v.setUint16(2, 4000)), expect: 'valid-or-nothing' },
  { label: 'UDP superpacket whose IPv4 total length is 100', hdr: vnet({ ...UDP_GSO, gsoSize: 500 }), packet: mangled(udp(9, 2000), (_, v) => v.setUint16(2, 100)), expect: 'valid-or-nothing' },
  { label: 'UDP superpacket whose UDP length is 9', hdr: vnet({ ...UDP_GSO, gsoSize: 500 }), packet: mangled(udp(9, 2000), (_, v) => v.setUint16(24, 9)), expect: 'valid-or-nothing' },
  { label: 'UDP superpacket with IHL 15', hdr: vnet({ ...UDP_GSO, gsoSize: 500 }), packet: mangled(udp(9, 2000), (b) => (b[0] = 0x4f)), expect: 'valid-or-nothing' },
  { label: 'GSO TCPV4 on a UDP packet', hdr: vnet({ ...TCP_GSO, gsoSize: 500 }), packet: udp(9, 2000), expect: 'valid-or-nothing' },
  { label: 'GSO UDP_L4 on a TCP packet', hdr: vnet({ ...UDP_GSO, gsoSize: 500 }), packet: tcp(2000), expect: 'valid-or-nothing' },
  { label: 'TCP superpacket without NEEDS_CSUM (checksum not partial)', hdr: vnet({ ...TCP_GSO, flags: 0, gsoSize: 1000 }), packet: tcp(3000), expect: 'valid-or-nothing' },
];

/** The packet sent after each lie: the queue must still deliver it. */
const marker = (k: number) => udp(0x80 + k, 64);
const isMarker = (p: Uint8Array, k: number) => p.length === 92 && p[9] === 17 && p[28] === 0x80 + k;

/** True when `p` is a valid IPv4 TCP or UDP packet: header and L4 checksums verify, lengths agree. */
function validIpv4(p: Uint8Array): boolean {
  try {
    const ip = new Ipv4Packet(p);
    if (ip.totalLength !== p.length || !ip.verifyChecksum()) return false;
    const l4 = ip.headerLength;
    if (ip.protocol === IpProtocol.TCP) return new TcpSegment(p, l4, p.length - l4).verifyChecksum(ip.pseudoHeaderSum());
    if (ip.protocol === IpProtocol.UDP) {
      const u = new UdpDatagram(p, l4, p.length - l4);
      return u.length === p.length - l4 && u.verifyChecksum(ip.pseudoHeaderSum());
    }
    return false;
  } catch {
    return false;
  }
}

/** Packets between 198.18.0.1 and .2 (the injected ones), not the kernel's own. */
const ours = (p: Uint8Array) => p.length >= 20 && p[0]! >> 4 === 4 && p[12] === 198 && p[15] === 1 && p[16] === 198 && p[19] === 2;

t.test('lying superpackets from the device: refused and counted, or handed over only as valid packets; the queue keeps reading', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'bad-rxlie');
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tprxlie0').ipv4('198.18.0.1', 24).offload(true)], mode: 'split' });
  t.teardown(() => set.close());
  const dir = mkdtempSync(join(tmpdir(), 'tp-bad-rxlie-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const reader = set.reader(0);
  const outcomes: string[] = [];
  for (const [k, lie] of LIES.entries()) {
    const file = join(dir, `${k}.json`);
    writeFileSync(file, JSON.stringify([{ hdr: lie.hdr, packet: hex(lie.packet) }, { packet: hex(marker(k)) }]));
    const before = set.totals(0).malformed;
    const injected = await ns.exec(process.execPath, [peerPath('packet-inject'), 'tprxlie0', file]);
    const accepted = (JSON.parse(injected.stdout.trim() || '{"accepted":[]}') as { accepted: (true | number)[] }).accepted;
    t.same(accepted, [true, true], `${lie.label}: the kernel took the lie and the marker (${injected.stderr.trim()})`);
    const fromLie: Uint8Array[] = [];
    let markerSeen = false;
    await drain(reader, (p) => {
      if (isMarker(p, k)) markerSeen = true;
      else if (ours(p)) fromLie.push(p.slice());
    }, { done: () => markerSeen, idleMs: 200, limitMs: 10_000 });
    const malformed = set.totals(0).malformed - before;
    t.ok(markerSeen, `${lie.label}: the packet after it was read`);
    if (lie.expect === 'malformed') {
      t.equal(malformed, 1, `${lie.label}: counted malformed`);
      t.equal(fromLie.length, 0, `${lie.label}: nothing of it handed over`);
    } else {
      t.ok(malformed <= 1 && (malformed === 0 || fromLie.length === 0), `${lie.label}: refused whole or not at all`);
      t.ok(fromLie.every(validIpv4), `${lie.label}: the ${fromLie.length} packets handed over are valid IPv4 with valid checksums`);
    }
    outcomes.push(`${lie.label}: ${malformed ? 'malformed' : `${fromLie.length} packets`}`);
  }
  t.comment(outcomes.join('\n'));
  t.equal(set.workers().filter((w) => !w.running).length, 0, 'the worker is still running');
});
