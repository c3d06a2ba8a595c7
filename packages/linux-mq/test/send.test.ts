/**
 * The TX path: packets written by the main thread reach kernel sockets in the
 * namespace (a UDP receiver is the oracle, counting datagrams and checking their
 * payload; the kernel drops anything with a bad checksum); superpackets are split
 * by the worker for a plain device and handed whole to an offload device;
 * segments to an offload device are coalesced with GRO; a full TX ring is
 * backpressure, and waits honour AbortSignal.
 */
import t from 'tap';
import { requireNetAdmin, createNetns, type Netns, type TestContext } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { buildUdpPacket, buildVirtioPacket, VIRTIO_NET_HDR_GSO_UDP_L4 } from '@tunpipe/offload';
import { openIn, peerPath, runPeer, handlerPath } from './net-fixtures.js';

/** Payload of datagram `seq`: u32 seq, then (seq + i) & 0xff at byte i (what udp-receiver checks). */
function udpPayload(seq: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, seq);
  for (let i = 4; i < size; i++) p[i] = (seq + i) & 0xff;
  return p;
}

interface Received {
  received: number;
  sizes: Record<string, number>;
  badPayload: number;
  order: number[];
}

async function receiver(t: TestContext, ns: Netns, expect: number): Promise<() => Promise<Received>> {
  const peer = ns.spawn(t, 'node', [peerPath('udp-receiver'), '198.18.0.1', '7000', String(expect), '1500']);
  await peer.waitForOutput(/listening/);
  return async () => {
    const exit = await peer.wait();
    return JSON.parse(exit.stdout.trim().split('\n').pop()!) as Received;
  };
}

async function udpRcvbufErrors(ns: Netns): Promise<number> {
  const r = await ns.exec('cat', ['/proc/net/snmp']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

const datagram = (seq: number, size: number, srcPort = 5555): Uint8Array =>
  buildUdpPacket({ src: '198.18.0.2', dst: '198.18.0.1', srcPort, dstPort: 7000, payload: udpPayload(seq, size) });

t.test('packets sent by the main thread reach a kernel socket, over both queues', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'send');
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpt0').ipv4('198.18.0.1', 24)], queues: 2 });
  t.teardown(() => set.close());
  const result = await receiver(t, ns, 5000);
  for (let seq = 0; seq < 5000; seq++) await set.send(0, datagram(seq, 100, 2000 + (seq % 64)));
  const got = await result();
  const rcvbuf = await udpRcvbufErrors(ns);
  t.equal(got.badPayload, 0, 'every payload intact');
  t.equal(got.received + rcvbuf, 5000, `received ${got.received} + socket drops ${rcvbuf} = 5000`);
  const stats = set.stats();
  t.equal(stats[0]!.sent + stats[1]!.sent, 5000);
  t.equal(stats[0]!.txPackets + stats[1]!.txPackets, 5000, 'every packet written');
  t.ok(stats[0]!.txPackets > 0 && stats[1]!.txPackets > 0, `flows hashed over both queues (${stats[0]!.txPackets}/${stats[1]!.txPackets})`);
});

const superpacket = (count: number, size: number): { header: Uint8Array; packet: Uint8Array } => {
  const payload = new Uint8Array(count * size);
  for (let k = 0; k < count; k++) payload.set(udpPayload(k, size), k * size);
  const packet = buildUdpPacket({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 5555, dstPort: 7000, payload });
  const framed = buildVirtioPacket(packet, { gsoType: VIRTIO_NET_HDR_GSO_UDP_L4, gsoSize: size });
  return { header: framed.slice(0, 10), packet: framed.slice(10) };
};

for (const offload of [false, true]) {
  t.test(`a UDP superpacket to ${offload ? 'an offload' : 'a plain'} device arrives as 20 datagrams`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, offload ? 'supoff' : 'supplain');
    const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpt1').ipv4('198.18.0.1', 24).offload(offload)] });
    t.teardown(() => set.close());
    if (offload && !set.devices[0]!.udpGso()) {
      t.plan(0, 'skipped: the kernel did not accept USO on this device');
      return;
    }
    const result = await receiver(t, ns, 20);
    const { header, packet } = superpacket(20, 1000);
    await set.send(0, packet, { virtioHeader: header });
    const got = await result();
    t.equal(got.received, 20, '20 datagrams');
    t.same(got.sizes, { 1000: 20 }, 'of 1000 bytes each');
    t.equal(got.badPayload, 0, 'contents intact');
    t.same(got.order, Array.from({ length: 20 }, (_, i) => i), 'in order');
    const totals = set.totals(0);
    t.equal(totals.gsoSplit, offload ? 0 : 1, offload ? 'written whole (the kernel segments)' : 'split by the worker');
    t.equal(totals.txPackets, offload ? 1 : 20);
  });
}

t.test('segments to an offload device are coalesced with GRO and arrive intact, in order', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'gro');
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpt2').ipv4('198.18.0.1', 24).offload(true)] });
  t.teardown(() => set.close());
  if (!set.devices[0]!.udpGso()) {
    t.plan(0, 'skipped: the kernel did not accept USO on this device');
    return;
  }
  const result = await receiver(t, ns, 64);
  for (let seq = 0; seq < 64; seq++) t.ok(set.trySend(0, datagram(seq, 1200)), `queued ${seq}`);
  const got = await result();
  t.equal(got.received, 64);
  t.equal(got.badPayload, 0);
  t.same(got.order, Array.from({ length: 64 }, (_, i) => i), 'in order');
  const totals = set.totals(0);
  t.ok(totals.groMerged > 0, `GRO merged ${totals.groMerged} datagrams into ${totals.txPackets} writes`);
  t.equal(totals.groMerged + totals.txPackets, 64);
});

t.test('a full TX ring is backpressure; waits honour AbortSignal', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'backpr');
  const set = await openIn(ns, {
    devices: [new DeviceBuilder().name('tpt3').ipv4('198.18.0.1', 24)],
    txSlots: 4,
    handler: handlerPath('slow'),
    handlerData: 800,
  });
  t.teardown(() => set.close());
  const w = set.writer(0);
  const p = datagram(0, 64);
  t.throws(() => w.trySend(new Uint8Array(0)), { code: 'ERR_TUN_PACKET_TOO_BIG' });
  t.throws(() => w.trySend(new Uint8Array(w.maxPacket + 1)), { code: 'ERR_TUN_PACKET_TOO_BIG' });
  t.throws(() => w.trySend(p, { virtioHeader: new Uint8Array(12) }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => w.trySend(p, { queue: 1 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  // Stall the worker in its handler: a datagram to port 7 makes it spin for 800 ms.
  await runPeer(ns, 'udp-sender', ['198.18.0.2', 7, 1, 1, 16]);
  await new Promise((r) => setTimeout(r, 100));
  let accepted = 0;
  while (w.trySend(p)) accepted++;
  t.equal(accepted, 4, 'four slots, then trySend says no');
  t.ok(set.totals(0).sendRingFull >= 1, 'counted as sendRingFull');
  await t.rejects(w.ready({ signal: AbortSignal.timeout(50) }), { code: 'ERR_TUN_ABORTED', name: 'AbortError' });
  const started = performance.now();
  await set.send(0, p);
  const waited = performance.now() - started;
  t.ok(waited > 100, `send() waited ${waited.toFixed(0)} ms for the stalled worker to free a slot`);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(set.totals(0).txPackets, 5, 'all five went out once the worker was back');
});

for (const offload of [true, false]) {
  t.test(`packets with a partial checksum (NEEDS_CSUM) to ${offload ? 'an offload' : 'a plain'} device arrive with valid checksums`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, offload ? 'csumoff' : 'csumplain');
    const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpt4').ipv4('198.18.0.1', 24).offload(offload)] });
    t.teardown(() => set.close());
    if (offload && !set.devices[0]!.udpGso()) {
      t.plan(0, 'skipped: the kernel did not accept USO on this device');
      return;
    }
    const result = await receiver(t, ns, 32);
    for (let seq = 0; seq < 32; seq++) {
      const framed = buildVirtioPacket(datagram(seq, 500), { needsCsum: true });
      t.ok(set.trySend(0, framed.subarray(10), { virtioHeader: framed.subarray(0, 10) }));
    }
    const got = await result();
    t.equal(got.received, 32, 'all 32 arrived (the kernel drops bad checksums)');
    t.equal(got.badPayload, 0);
    t.same(got.order, Array.from({ length: 32 }, (_, i) => i), 'in order');
    if (offload) t.ok(set.totals(0).groMerged > 0, `their checksums completed, they were coalesced (${set.totals(0).groMerged} merged)`);
  });
}
