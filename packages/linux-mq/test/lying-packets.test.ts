/**
 * Packets that lie about their lengths, checksums or headers, sent by the main
 * thread (`QueueSet.trySend`) in the same TX batches as valid datagrams, to a
 * plain and to an offload device: the worker never crashes, every lie ends as
 * written (the kernel then drops it and counts it in /proc/net/snmp) or as a
 * counted refusal (`txErrors`, and of those `txMalformed`), the valid datagrams
 * of the same batches all reach a UDP socket in the namespace (the oracle), and
 * the queue keeps working afterwards. The lies go to port 7001 (no socket), the
 * valid datagrams to 7000, so the receiver counts exactly the valid ones.
 */
import t from 'tap';
import { createNetns, requireNetAdmin, type Netns, type TestContext } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { buildUdpPacket } from '@tunpipe/offload';
import { openIn, peerPath } from './net-fixtures.js';

/** Payload of valid datagram `seq` (what udp-receiver checks). */
function udpPayload(seq: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, seq);
  for (let i = 4; i < size; i++) p[i] = (seq + i) & 0xff;
  return p;
}

const valid = (seq: number): Uint8Array =>
  buildUdpPacket({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 5555, dstPort: 7000, payload: udpPayload(seq, 200) });
const lie = (size = 100): Uint8Array => buildUdpPacket({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 5556, dstPort: 7001, payload: size });
/** A copy of `p` with `edit` applied. */
const mangled = (p: Uint8Array, edit: (b: Uint8Array, v: DataView) => void): Uint8Array => {
  const c = p.slice();
  edit(c, new DataView(c.buffer));
  return c;
};

/** struct virtio_net_hdr, <linux/virtio_net.h>: flags u8, gso_type u8, then hdr_len, gso_size, csum_start, csum_offset (u16, host order). */
function vnet(f: { flags?: number; gso?: number; hdrLen?: number; gsoSize?: number; csumStart?: number; csumOffset?: number }): Uint8Array {
  const h = new Uint8Array(10);
  const v = new DataView(h.buffer);
  h[0] = f.flags ?? 0;
  h[1] = f.gso ?? 0;
  v.setUint16(2, f.hdrLen ?? 0, true);
  v.setUint16(4, f.gsoSize ?? 0, true);
  v.setUint16(6, f.csumStart ?? 0, true);
  v.setUint16(8, f.csumOffset ?? 0, true);
  return h;
}

/** What becomes of a lie: `written` n packets (the kernel judges them), or refused as `malformed`. */
type Outcome = { written: number } | 'malformed';

interface Lie {
  label: string;
  packet: Uint8Array;
  header?: Uint8Array;
  plain: Outcome;
  offload: Outcome;
}

const BIG = lie(4000);
const ONCE = { written: 1 };
const LIES: Lie[] = [
  // Lengths and headers: the library passes IP through; the kernel drops and counts them.
  { label: 'IPv4 total length beyond the buffer', packet: mangled(lie(), (_, v) => v.setUint16(2, 1000)), plain: ONCE, offload: ONCE },
  { label: 'IPv4 total length below the headers', packet: mangled(lie(), (_, v) => v.setUint16(2, 24)), plain: ONCE, offload: ONCE },
  { label: 'IHL 3 (shorter than the fixed header)', packet: mangled(lie(), (b) => (b[0] = 0x43)), plain: ONCE, offload: ONCE },
  { label: 'IHL 15 in a 38-byte packet', packet: mangled(lie(10), (b) => (b[0] = 0x4f)), plain: ONCE, offload: ONCE },
  { label: 'wrong IPv4 header checksum', packet: mangled(lie(), (b) => (b[10]! ^= 0xff)), plain: ONCE, offload: ONCE },
  { label: 'wrong UDP checksum', packet: mangled(lie(), (b) => (b[26]! ^= 0xff)), plain: ONCE, offload: ONCE },
  { label: 'one byte', packet: Uint8Array.of(0x45), plain: ONCE, offload: ONCE },
  {
    label: 'IPv6 payload length beyond the buffer',
    packet: mangled(buildUdpPacket({ src: 'fd00::2', dst: 'fd00::1', srcPort: 1, dstPort: 7001, payload: 10 }), (_, v) => v.setUint16(4, 999)),
    plain: ONCE,
    offload: ONCE,
  },
  // Not IP at all: the kernel's write() says EINVAL.
  { label: 'non-IP garbage (version 0)', packet: new Uint8Array(64).fill(7), plain: 'malformed', offload: 'malformed' },
  // virtio headers that lie (keep-mode TX): the worker cannot split or checksum them for a plain
  // device; an offload device's kernel refuses most with EINVAL and segments the rest itself.
  { label: 'GSO UDP with gso_size 0', packet: BIG, header: vnet({ flags: 1, gso: 5, hdrLen: 28, gsoSize: 0, csumStart: 20, csumOffset: 6 }), plain: 'malformed', offload: 'malformed' },
  { label: 'GSO UDP with csum_start beyond the packet', packet: BIG, header: vnet({ flags: 1, gso: 5, hdrLen: 28, gsoSize: 1000, csumStart: 5000, csumOffset: 6 }), plain: 'malformed', offload: 'malformed' },
  { label: 'NEEDS_CSUM with csum_offset past the end', packet: lie(), header: vnet({ flags: 1, csumStart: 20, csumOffset: 200 }), plain: 'malformed', offload: 'malformed' },
  { label: 'NEEDS_CSUM with csum_start past the end', packet: lie(), header: vnet({ flags: 1, csumStart: 2000, csumOffset: 6 }), plain: 'malformed', offload: 'malformed' },
  { label: 'flags 0xff', packet: lie(), header: vnet({ flags: 0xff }), plain: 'malformed', offload: 'malformed' },
  { label: 'GSO TCPV4 over a UDP packet', packet: BIG, header: vnet({ flags: 1, gso: 1, hdrLen: 40, gsoSize: 1000, csumStart: 20, csumOffset: 16 }), plain: 'malformed', offload: ONCE },
  // hdr_len is never trusted (DESIGN.md): derived from csum_start, the packet splits into 4.
  { label: 'GSO UDP with hdr_len beyond the packet', packet: BIG, header: vnet({ flags: 1, gso: 5, hdrLen: 60000, gsoSize: 1000, csumStart: 20, csumOffset: 6 }), plain: { written: 4 }, offload: 'malformed' },
];

/** The kernel's own counters of packets it dropped as malformed, summed (/proc/net/snmp and snmp6). */
async function kernelInputErrors(ns: Netns): Promise<number> {
  const snmp = (await ns.exec('cat', ['/proc/net/snmp'])).stdout.split('\n');
  let sum = 0;
  for (const proto of ['Ip', 'Udp']) {
    const [names, values] = snmp.filter((l) => l.startsWith(`${proto}:`)).map((l) => l.split(/\s+/));
    for (const key of ['InHdrErrors', 'InTruncatedPkts', 'InErrors', 'InCsumErrors', 'NoPorts']) {
      const i = names!.indexOf(key);
      if (i > 0) sum += Number(values![i]);
    }
  }
  const snmp6 = (await ns.exec('cat', ['/proc/net/snmp6'])).stdout;
  for (const key of ['Ip6InHdrErrors', 'Ip6InTruncatedPkts']) sum += Number(new RegExp(`^${key}\\s+(\\d+)`, 'm').exec(snmp6)?.[1] ?? 0);
  return sum;
}

async function receiver(t: TestContext, ns: Netns, expect: number): Promise<() => Promise<{ received: number; badPayload: number }>> {
  const peer = ns.spawn(t, 'node', [peerPath('udp-receiver'), '198.18.0.1', '7000', String(expect), '1500']);
  await peer.waitForOutput(/listening/);
  return async () => JSON.parse((await peer.wait()).stdout.trim().split('\n').pop()!) as { received: number; badPayload: number };
}

for (const kind of ['plain', 'offload'] as const) {
  t.test(`lying packets to ${kind === 'plain' ? 'a plain' : 'an offload'} device: counted, the rest of each batch delivered, the queue keeps working`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `bad-lie-${kind}`);
    await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    const set = await openIn(ns, { devices: [new DeviceBuilder().name('tplie0').ipv4('198.18.0.1', 24).ipv6('fd00::1', 64).offload(kind === 'offload')] });
    t.teardown(() => set.close());
    const AFTER = 50;
    const expectValid = LIES.length * 2 + AFTER;
    const result = await receiver(t, ns, expectValid);
    const kernelBefore = await kernelInputErrors(ns);
    let seq = 0;
    let sent = 0;
    // Each lie between two valid datagrams, queued back to back (the worker takes them in one or two batches).
    for (const l of LIES) {
      for (const [p, header] of [[valid(seq++), undefined], [l.packet, l.header], [valid(seq++), undefined]] as const) {
        while (!set.trySend(0, p, { queue: 0, virtioHeader: header })) await set.writer(0).ready({ queue: 0 });
        sent++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    for (let k = 0; k < AFTER; k++) {
      await set.send(0, valid(seq++), { queue: 0 });
      sent++;
    }
    const got = await result();
    t.equal(got.received, expectValid, `all ${expectValid} valid datagrams arrived (lies and all)`);
    t.equal(got.badPayload, 0, 'intact');

    const malformed = LIES.filter((l) => l[kind] === 'malformed').length;
    const writtenLies = LIES.reduce((n, l) => n + (l[kind] === 'malformed' ? 0 : (l[kind] as { written: number }).written), 0);
    const s = set.totals(0);
    t.equal(s.sent, sent, `${sent} packets queued`);
    t.equal(s.txRingPackets, sent, 'the worker took every one');
    t.equal(s.txMalformed, malformed, `${malformed} lies refused as malformed`);
    t.equal(s.txErrors, malformed, 'no other write failed');
    // Written: every valid datagram (some merged by GRO on the offload device) and the tolerated lies.
    t.equal(s.txPackets + s.groMerged, expectValid + writtenLies, `txPackets ${s.txPackets} + groMerged ${s.groMerged} = ${expectValid} valid + ${writtenLies} written lies`);
    t.equal(s.malformed, 0, 'nothing malformed on the receive side');
    const kernelDrops = (await kernelInputErrors(ns)) - kernelBefore;
    t.ok(kernelDrops >= LIES.filter((l) => l[kind] !== 'malformed').length - 1, `the kernel counted ${kernelDrops} of the written lies as input errors`);
    t.equal(set.workers().filter((w) => !w.running).length, 0, 'the worker is still running');
  });
}
