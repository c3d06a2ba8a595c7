/**
 * Detaching and re-attaching a queue (TUNSETQUEUE) under traffic: the kernel
 * stops and resumes steering flows to it (sysfs `queues/tx-N` as the outside
 * oracle), its worker stops and resumes receiving, senders avoid detached
 * queues, and the kernel's refusals come back as ERR_TUN_IOCTL.
 */
import t from 'tap';
import { requireNetAdmin, createNetns, type Netns } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { buildUdpPacket } from '@tunpipe/offload';
import { openIn, runPeer, drain } from './net-fixtures.js';
import type { QueueSet } from '../src/queue-set.js';

async function txQueues(ns: Netns, dev: string): Promise<string[]> {
  const r = await ns.exec('ls', [`/sys/class/net/${dev}/queues`]);
  return r.stdout.split(/\s+/).filter((n) => n.startsWith('tx-')).sort();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rxOf = (set: QueueSet, q: number): number => set.stats()[q]!.rxPackets;

t.test('detach and re-attach a queue under traffic', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'qctl');
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpq0').ipv4('198.18.0.1', 24)], queues: 2 });
  t.teardown(() => set.close());
  t.same(await txQueues(ns, 'tpq0'), ['tx-0', 'tx-1'], 'two queues attached');

  let received = 0;
  let senderDone = false;
  const sender = runPeer<{ sent: number }>(ns, 'udp-sender', ['198.18.0.2', 9000, 16000, 32, 64, 4000]).finally(() => {
    senderDone = true;
  });
  const reading = drain(set.reader(0), () => void received++, { done: () => senderDone });

  for (let i = 0; i < 500 && rxOf(set, 1) < 100; i++) await sleep(10);
  t.ok(rxOf(set, 1) >= 100, 'queue 1 receives flows');

  await set.detachQueue(0, 1);
  t.same(set.attachedQueues(0), [0], 'attachedQueues() follows');
  t.same(await txQueues(ns, 'tpq0'), ['tx-0'], 'the kernel has one queue left (sysfs)');
  const w = set.writer(0);
  const picks = new Set<number>();
  for (let port = 1000; port < 1064; port++) {
    picks.add(w.queueFor(buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: port, dstPort: 1, payload: 1 })));
  }
  t.same([...picks], [0], 'senders only pick the attached queue');
  await sleep(100);
  const q1Detached = rxOf(set, 1);
  const q0Detached = rxOf(set, 0);
  await sleep(600);
  t.equal(rxOf(set, 1), q1Detached, 'a detached queue receives nothing');
  t.ok(rxOf(set, 0) > q0Detached + 500, 'its flows moved to queue 0');
  await t.rejects(set.detachQueue(0, 1), { code: 'ERR_TUN_IOCTL', sysCode: 'EINVAL' }, 'detaching twice is refused by the kernel');

  await set.attachQueue(0, 1);
  t.same(set.attachedQueues(0), [0, 1]);
  t.same(await txQueues(ns, 'tpq0'), ['tx-0', 'tx-1'], 'two queues again (sysfs)');
  const q1Attached = rxOf(set, 1);
  for (let i = 0; i < 300 && rxOf(set, 1) < q1Attached + 100; i++) await sleep(10);
  t.ok(rxOf(set, 1) >= q1Attached + 100, 'the re-attached queue receives again');

  const { sent } = await sender;
  await reading;
  t.ok(received > sent * 0.9, `traffic went on throughout (${received} of ${sent})`);
});

t.test('with every queue detached nothing can be sent', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'qctlall');
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpq1').ipv4('198.18.0.1', 24)], queues: 2 });
  t.teardown(() => set.close());
  const packet = buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, payload: 8 });
  await Promise.all([set.detachQueue(0, 0), set.detachQueue(0, 1)]);
  t.same(set.attachedQueues(0), []);
  t.throws(() => set.trySend(0, packet), { code: 'ERR_TUN_NO_QUEUE' });
  await set.attachQueue(0, 0);
  t.ok(set.trySend(0, packet), 'sending works again after one attach');
});

t.test('a single-queue device refuses detaching', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'qctlone');
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpq2')] });
  t.teardown(() => set.close());
  await t.rejects(set.detachQueue(0, 0), { code: 'ERR_TUN_IOCTL', sysCode: 'EINVAL' });
  t.throws(() => set.detachQueue(0, 1), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.same(set.attachedQueues(0), [0]);
});
