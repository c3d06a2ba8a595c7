/**
 * Lifecycle: close() under load stops every worker and closes every fd within
 * 100 ms and leaks no fd or thread; a device that disappears under load (link
 * deleted, or its namespace deleted) surfaces as ERR_TUN_DEVICE_GONE to readers
 * and writers, on the error channel, and its workers exit.
 */
import t from 'tap';
import diagnostics from 'node:diagnostics_channel';
import { requireNetAdmin, createNetns, openFds, threadCount, type Netns, type TestContext, type Peer } from '@tunpipe/testkit';
import { DeviceBuilder, type TunError } from '@tunpipe/core';
import { buildUdpPacket } from '@tunpipe/offload';
import { openIn, peerPath } from './net-fixtures.js';
import { CHANNELS } from '../src/diagnostics.js';
import type { QueueSet } from '../src/queue-set.js';

/** Polls `cond` every 10 ms for up to `limitMs`. */
async function until(cond: () => boolean, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/** Keeps the main thread sending packets out of device 0 until stopped. */
function sendLoop(set: QueueSet, dst: string): { stop: () => Promise<unknown> } {
  let running = true;
  const packet = buildUdpPacket({ src: '198.18.0.2', dst, srcPort: 4000, dstPort: 4001, payload: 200 });
  const done = (async () => {
    while (running) {
      await set.send(0, packet);
      await new Promise((r) => setImmediate(r));
    }
  })().then(() => undefined, (e: unknown) => e);
  return {
    stop: async () => {
      running = false;
      return done;
    },
  };
}

/** Keeps the main thread reading device 0 until it ends or fails; resolves with the error (or null). */
function readLoop(set: QueueSet): Promise<TunError | null> {
  return (async () => {
    try {
      for await (const b of set.batches(0)) void b.count;
      return null;
    } catch (e) {
      return e as TunError;
    }
  })();
}

function flood(t: TestContext, ns: Netns, dst: string): Peer {
  return ns.spawn(t, 'node', [peerPath('udp-sender'), dst, '9000', '5000000', '16', '64']);
}

t.test('close() under load: all workers gone and fds closed within 100 ms, nothing leaked', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'closeload');
  const fds0 = openFds();
  const threads0 = threadCount();
  // Persistent, so the measured close() is ours (workers leaving their loops, fds
  // closed) and not the kernel unregistering the interface on its last fd, which
  // costs ~20 ms of RCU grace periods idle and several times that on a loaded box.
  // execArgv: [] so the workers do not carry the test runner's --import hooks
  // (tap's process-info recording), which add tens of ms to each thread's exit.
  const set = await openIn(ns, {
    devices: [new DeviceBuilder().name('tpc0').ipv4('198.18.0.1', 24).persist(true)],
    queues: 2,
    execArgv: [],
  });
  t.teardown(() => ns.ip('link', 'del', 'tpc0').catch(() => undefined));
  t.ok(threadCount() >= threads0 + 2, 'one thread per queue (at least)');
  const peer = flood(t, ns, '198.18.0.2');
  const reading = readLoop(set);
  const sending = sendLoop(set, '198.18.0.1');
  await until(() => set.totals(0).rxPackets > 1000 && set.totals(0).txPackets > 1000);
  const before = set.totals(0);
  t.ok(before.rxPackets > 1000, `traffic flows (${before.rxPackets} received, ${before.txPackets} sent)`);
  const started = performance.now();
  await set.close();
  const took = performance.now() - started;
  t.ok(took < 100, `close() took ${took.toFixed(1)} ms`);
  t.same(set.workers().map((w) => w.running), [false, false], 'no worker runs');
  t.equal(await reading, null, 'the reader ended cleanly');
  const sendEnd = (await sending.stop()) as TunError | undefined;
  t.equal(sendEnd?.code, 'ERR_TUN_CLOSED', 'senders see ERR_TUN_CLOSED');
  await peer.stop();
  t.equal(openFds(), fds0, 'every fd closed');
  t.equal(threadCount(), threads0, 'every thread gone');
  await t.rejects(set.send(0, new Uint8Array(20)), { code: 'ERR_TUN_CLOSED' });
  await set.close();
});

t.test('the link is deleted under load: ERR_TUN_DEVICE_GONE everywhere, workers exit', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'linkdel');
  const fds0 = openFds();
  const threads0 = threadCount();
  const errors: Array<{ device: number; queue: number; error: TunError }> = [];
  const onError = (m: unknown): void => void errors.push(m as (typeof errors)[number]);
  diagnostics.subscribe(CHANNELS.error, onError);
  t.teardown(() => diagnostics.unsubscribe(CHANNELS.error, onError));
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpd0').ipv4('198.18.0.1', 24)], queues: 2 });
  t.teardown(() => set.close());
  const peer = flood(t, ns, '198.18.0.2');
  const reading = readLoop(set);
  const sending = sendLoop(set, '198.18.0.1');
  await until(() => set.totals(0).rxPackets > 100);
  t.ok(set.totals(0).rxPackets > 100, 'traffic flows');
  const deleted = performance.now();
  await ns.ip('link', 'del', 'tpd0');
  const err = await reading;
  t.equal(err?.code, 'ERR_TUN_DEVICE_GONE', `the reader rejects with ERR_TUN_DEVICE_GONE after ${(performance.now() - deleted).toFixed(1)} ms`);
  await until(() => !set.workers().some((w) => w.running), 2000);
  t.same(set.workers().map((w) => w.running), [false, false], 'both workers left their loops');
  const sendErr = (await sending.stop()) as TunError | undefined;
  t.ok(sendErr === undefined || sendErr.code === 'ERR_TUN_DEVICE_GONE', 'the send loop ended with nothing or ERR_TUN_DEVICE_GONE');
  await t.rejects(set.send(0, new Uint8Array(28)), { code: 'ERR_TUN_DEVICE_GONE' }, 'sending rejects with ERR_TUN_DEVICE_GONE');
  t.ok(errors.length >= 1 && errors.every((e) => e.error.code === 'ERR_TUN_DEVICE_GONE'), `tunpipe:queue:error published (${errors.length})`);
  await t.rejects(set.reader(0).read(), { code: 'ERR_TUN_DEVICE_GONE' }, 'later reads reject too');
  await t.rejects(set.detachQueue(0, 1), { code: 'ERR_TUN_DEVICE_GONE' });
  await set.close();
  await peer.stop();
  t.equal(openFds(), fds0, 'every fd closed');
  t.equal(threadCount(), threads0, 'every thread gone');
});

t.test('the namespace is deleted under load: ERR_TUN_DEVICE_GONE, workers exit', async (t) => {
  if (!requireNetAdmin(t)) return;
  // The queue fds pin the namespace they were opened in (home); the device lives
  // in `away`, so deleting `away` destroys it while our fds stay open.
  const home = createNetns(t, 'nshome');
  const away = createNetns(t, 'nsaway');
  const set = await openIn(home, { devices: [new DeviceBuilder().name('tpn0')], queues: 2 });
  t.teardown(() => set.close());
  await home.ip('link', 'set', 'tpn0', 'netns', away.name);
  await away.ip('addr', 'add', '198.18.0.1/24', 'dev', 'tpn0');
  await away.ip('link', 'set', 'tpn0', 'up');
  flood(t, away, '198.18.0.2');
  const reading = readLoop(set);
  const sending = sendLoop(set, '198.18.0.1');
  await until(() => set.totals(0).rxPackets >= 200);
  t.ok(set.totals(0).rxPackets >= 200, 'traffic flows through the moved device');
  await away.delete();
  const err = await reading;
  t.equal(err?.code, 'ERR_TUN_DEVICE_GONE', 'the reader rejects with ERR_TUN_DEVICE_GONE');
  await until(() => !set.workers().some((w) => w.running), 2000);
  t.same(set.workers().map((w) => w.running), [false, false], 'both workers left their loops');
  await sending.stop();
  await t.rejects(set.send(0, new Uint8Array(28)), { code: 'ERR_TUN_DEVICE_GONE' }, 'sending rejects with ERR_TUN_DEVICE_GONE');
  await set.close();
});
