/**
 * A slow (or absent) main-thread consumer: the worker stops reading when the RX
 * ring is full (ringFull counts it), the kernel queue then drops (counted by the
 * kernel), memory stays bounded, and the accounting still closes exactly.
 */
import t from 'tap';
import { requireNetAdmin, createNetns } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { openIn, runPeer, kernelDrops, udpSeq, drain } from './net-fixtures.js';

const COUNT = 40_000;

t.test('slow consumer: bounded memory, exact accounting', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'slow');
  ns.disableIpv6Sync(); // the drop counter must count only the test's packets
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tps0').ipv4('198.18.0.1', 24)], rxSlots: 64 });
  t.teardown(() => set.close());
  const rss0 = process.memoryUsage().rss;
  let senderDone = false;
  const sender = runPeer<{ sent: number }>(ns, 'udp-sender', ['198.18.0.2', 9000, COUNT, 8, 256]).finally(() => {
    senderDone = true;
  });
  let received = 0;
  let maxRss = rss0;
  const reader = set.reader(0);
  let idleSince = Date.now();
  while (!senderDone || Date.now() - idleSince < 500) {
    const batch = await reader.read({ signal: AbortSignal.timeout(200) }).catch(() => null);
    if (batch === null) continue;
    idleSince = Date.now();
    for (let i = 0; i < batch.count; i++) if (udpSeq(batch.data(i))?.port === 9000) received++;
    await new Promise((r) => setTimeout(r, 5)); // slow: hold the batch a while
    batch.release();
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
  }
  const { sent } = await sender;
  const totals = set.totals(0);
  const dropped = await kernelDrops(ns, 'tps0');
  t.equal(sent, COUNT);
  t.ok(totals.ringFull > 0, `the worker found the ring full ${totals.ringFull} times`);
  t.ok(dropped > 0, `the kernel dropped ${dropped}`);
  t.equal(received + dropped, sent, `received ${received} + dropped ${dropped} = sent ${sent}`);
  t.ok(maxRss - rss0 < 48 * 1024 * 1024, `RSS grew by ${((maxRss - rss0) / 1048576).toFixed(1)} MiB`);
});

t.test('a consumer that walks away leaks nothing and the ring stays bounded', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'walkaway');
  ns.disableIpv6Sync(); // the drop counter must count only the test's packets
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpw0').ipv4('198.18.0.1', 24)], rxSlots: 128 });
  t.teardown(() => set.close());
  const sender = runPeer<{ sent: number }>(ns, 'udp-sender', ['198.18.0.2', 9000, 20_000, 4, 64]);
  let seen = 0;
  let kept: { released: boolean } | undefined;
  for await (const batch of set.batches(0)) {
    for (let i = 0; i < batch.count; i++) if (udpSeq(batch.data(i))?.port === 9000) seen++;
    kept = batch;
    if (seen >= 100) break;
  }
  t.ok(kept?.released, 'breaking out of the loop released the last batch');
  const { sent } = await sender;
  await new Promise((r) => setTimeout(r, 200));
  const totals = set.totals(0);
  t.ok(totals.ringFull > 0, 'with nobody reading, the worker stopped at a full ring');
  t.ok(totals.passed - totals.delivered <= 128, `at most one ring of packets waits (${totals.passed - totals.delivered})`);
  const again = await set.reader(0).read();
  t.ok(again !== null && again.count > 0, 'a new reader picks up where the ring is');
  for (let i = 0; i < again!.count; i++) if (udpSeq(again!.data(i))?.port === 9000) seen++;
  again!.release();
  // Read what is left (the ring, then the kernel's queue) and close the books.
  await drain(set.reader(0), (p) => {
    if (udpSeq(p)?.port === 9000) seen++;
  });
  const dropped = await kernelDrops(ns, 'tpw0');
  t.equal(seen + dropped, sent, `received ${seen} + dropped ${dropped} = sent ${sent}: nothing unaccounted`);
});
