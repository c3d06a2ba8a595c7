/**
 * In-worker handlers: verdicts (TX answers real pings from the worker, DROP,
 * PASS), handlerData reaching init(), a throwing handler reported and survived
 * under each policy, and modules that cannot be used.
 */
import t from 'tap';
import diagnostics from 'node:diagnostics_channel';
import { requireNetAdmin, createNetns, ping, openFds, threadCount } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { openIn, runPeer, handlerPath, udpSeq, drain } from './net-fixtures.js';
import { CHANNELS } from '../src/diagnostics.js';
import type { HandlerErrorEvent } from '../src/queue-set.js';

t.test('verdicts: TX answers ping in the worker, DROP discards, PASS reaches the main thread', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'hverdict');
  const set = await openIn(ns, {
    devices: [new DeviceBuilder().name('tph0').ipv4('198.18.0.1', 24)],
    handler: handlerPath('icmp-echo'),
  });
  t.teardown(() => set.close());
  const byPort = new Map<number, number>();
  let sendersDone = false;
  const reading = drain(set.reader(0), (p) => {
    const u = udpSeq(p);
    if (u !== null) byPort.set(u.port, (byPort.get(u.port) ?? 0) + 1);
  }, { done: () => sendersDone, idleMs: 500 });
  const r = await ping(ns, '198.18.0.2', { count: 5 });
  t.equal(r.received, 5, 'ping got 5 replies, written by the worker');
  await runPeer(ns, 'udp-sender', ['198.18.0.2', 9, 100, 1, 32]);
  await runPeer(ns, 'udp-sender', ['198.18.0.2', 5000, 100, 1, 32]);
  sendersDone = true;
  await reading;
  const totals = set.totals(0);
  t.equal(totals.replied, 5, 'five TX verdicts');
  t.equal(totals.txPackets, 5, 'five writes');
  t.equal(totals.handlerDrops, 100, 'UDP to port 9 dropped in the worker');
  t.equal(byPort.get(9), undefined, 'no port-9 datagram reached the main thread');
  t.equal(byPort.get(5000), 100, 'port-5000 datagrams passed to the main thread');
});

t.test("a throwing handler is reported and the queue goes on ('drop')", async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'hthrow');
  const events: HandlerErrorEvent[] = [];
  const published: unknown[] = [];
  const onPublish = (m: unknown): void => void published.push(m);
  diagnostics.subscribe(CHANNELS.handlerError, onPublish);
  t.teardown(() => diagnostics.unsubscribe(CHANNELS.handlerError, onPublish));
  const set = await openIn(ns, {
    devices: [new DeviceBuilder().name('tph1').ipv4('198.18.0.1', 24)],
    handler: handlerPath('icmp-echo'),
    handlerData: 'tag-123',
    onHandlerError: (e) => events.push(e),
  });
  t.teardown(() => set.close());
  let port13 = 0;
  let senderDone = false;
  const reading = drain(set.reader(0), (p) => {
    if (udpSeq(p)?.port === 13) port13++;
  }, { done: () => senderDone, idleMs: 500 });
  await runPeer(ns, 'udp-sender', ['198.18.0.2', 13, 20, 1, 32, 200]);
  senderDone = true;
  await reading;
  const totals = set.totals(0);
  t.ok(totals.handlerErrors >= 1, `${totals.handlerErrors} batches threw`);
  t.equal(totals.handlerErrorDrops, 20, 'the packets of the throwing batches were dropped');
  t.equal(totals.handlerDrops, 0, 'and counted once: not also as handler DROP verdicts');
  t.equal(port13, 0, 'none of them reached the main thread');
  t.ok(events.length >= 1, 'onHandlerError was called');
  t.match(events[0]!.error.message, /handler bug on queue 0 \(tag-123\)/, 'with the thrown error (init got handlerData)');
  t.equal(events[0]!.device, 0);
  t.ok(events.reduce((n, e) => n + 1 + e.suppressed, 0) <= totals.handlerErrors, 'reports account for the throws');
  t.equal(published.length, events.length, 'the same reports went to tunpipe:queue:handler-error');
  const r = await ping(ns, '198.18.0.2', { count: 3 });
  t.equal(r.received, 3, 'the queue still answers pings afterwards');
});

t.test("handlerErrors 'pass' hands the throwing batch to the main thread", async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'hpass');
  const set = await openIn(ns, {
    devices: [new DeviceBuilder().name('tph2').ipv4('198.18.0.1', 24)],
    handler: handlerPath('icmp-echo'),
    handlerErrors: 'pass',
    onHandlerError: () => undefined,
  });
  t.teardown(() => set.close());
  let got = 0;
  let senderDone = false;
  const sender = runPeer(ns, 'udp-sender', ['198.18.0.2', 13, 50, 1, 32, 500]).finally(() => (senderDone = true));
  await drain(set.reader(0), (p) => {
    if (udpSeq(p)?.port === 13) got++;
  }, { done: () => senderDone });
  await sender;
  t.equal(got, 50, 'all 50 datagrams of the throwing batches reached the main thread');
  t.ok(set.totals(0).handlerErrors >= 1);
  t.equal(set.totals(0).handlerErrorDrops, 0);
});

t.test("handlerErrors 'fatal' fails the queue with ERR_TUN_HANDLER", async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'hfatal');
  const set = await openIn(ns, {
    devices: [new DeviceBuilder().name('tph3').ipv4('198.18.0.1', 24)],
    handler: handlerPath('icmp-echo'),
    handlerErrors: 'fatal',
    onHandlerError: () => undefined,
  });
  t.teardown(() => set.close());
  const reading = (async () => {
    for await (const b of set.batches(0)) void b; // anything the kernel sends before the throw
  })();
  reading.catch(() => undefined); // observed below, after the sender ran
  await runPeer(ns, 'udp-sender', ['198.18.0.2', 13, 5, 1, 32]);
  await t.rejects(reading, { code: 'ERR_TUN_HANDLER' });
  for (let i = 0; i < 100 && set.workers()[0]!.running; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(set.workers()[0]!.running, false, 'the worker left');
});

t.test('unusable handler modules fail openQueues with ERR_TUN_HANDLER and leave nothing behind', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'hbad');
  const fds0 = openFds();
  const threads0 = threadCount();
  for (const handler of [handlerPath('does-not-exist'), handlerPath('no-export')]) {
    await t.rejects(
      openIn(ns, { devices: [new DeviceBuilder().name('tph4')], queues: 2, handler }),
      { code: 'ERR_TUN_HANDLER' },
      handler,
    );
  }
  t.equal(openFds(), fds0, 'no fd left open');
  t.equal(threadCount(), threads0, 'no thread left');
  t.same(await ns.ipJson('link', 'show', 'tph4').catch(() => []), [], 'the device is gone');
});
