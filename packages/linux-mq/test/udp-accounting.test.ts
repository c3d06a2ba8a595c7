/**
 * Every datagram of a bounded, sequence-numbered UDP stream is accounted for:
 * received by the main thread + dropped (by the kernel on the way to the device,
 * per `ip -s link` and `tc -s qdisc`, or counted by the workers) = sent, over 1,
 * 2 and 4 queues; no datagram arrives twice; flows spread over every queue.
 */
import t from 'tap';
import { requireNetAdmin, createNetns } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { openIn, runPeer, kernelDrops, udpSeq, drain } from './net-fixtures.js';

const COUNT = 20_000;
const FLOWS = 32;
const PORT = 9000;

for (const queues of [1, 2, 4]) {
  t.test(`${queues} queue(s): received + dropped = sent`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `udpacct${queues}`);
    ns.disableIpv6Sync(); // the drop counter must count only the test's packets
    const set = await openIn(ns, {
      devices: [new DeviceBuilder().name('tpu0').ipv4('198.18.0.1', 24)],
      queues,
    });
    t.teardown(() => set.close());
    const seen = new Uint8Array(COUNT);
    let received = 0;
    let duplicates = 0;
    const perQueue = new Array<number>(queues).fill(0);
    let senderDone = false;
    const sender = runPeer<{ sent: number }>(ns, 'udp-sender', ['198.18.0.2', PORT, COUNT, FLOWS, 64]).finally(() => {
      senderDone = true;
    });
    await drain(set.reader(0), (p, q) => {
      const u = udpSeq(p);
      if (u === null || u.port !== PORT || u.seq >= COUNT) return;
      if (seen[u.seq] === 1) duplicates++;
      seen[u.seq] = 1;
      received++;
      perQueue[q]!++;
    }, { done: () => senderDone });
    const { sent } = await sender;
    t.comment(JSON.stringify(set.totals(0)));
    const totals = set.totals(0);
    const dropped = (await kernelDrops(ns, 'tpu0')) + totals.malformed + totals.handlerDrops;
    t.equal(sent, COUNT, 'the sender sent everything');
    t.equal(duplicates, 0, 'no duplicates');
    t.equal(received + dropped, sent, `received ${received} + dropped ${dropped} = sent ${sent}`);
    t.ok(received > sent / 2, 'most datagrams arrived');
    t.equal(totals.delivered, totals.passed, 'the main thread got everything the workers passed');
    if (queues > 1) {
      for (let q = 0; q < queues; q++) t.ok(perQueue[q]! > 0, `queue ${q} carried ${perQueue[q]} datagrams`);
      const stats = set.stats().filter((s) => s.device === 0);
      t.same(stats.map((s) => s.rxPackets > 0), new Array(queues).fill(true), 'every worker read packets (stats)');
    }
  });
}
