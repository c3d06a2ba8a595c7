/**
 * The consumers of one device on real traffic: one at a time (a second fails
 * with ERR_TUN_CONSUMER_ACTIVE), a consumer that walks away (break, cancel,
 * unsubscribe) leaks nothing and the next one continues where it stopped, with
 * every datagram accounted for (received by someone, or dropped by the kernel);
 * views versus copies; batches released on the next read.
 */
import t from 'tap';
import { firstValueFrom, map, take, toArray } from 'rxjs';
import { requireNetAdmin, createNetns, type Netns } from '@tunpipe/testkit';
import type { TunStreams } from '../src/tun-streams.js';
import { openTunIn, runPeer, kernelDrops, udpSeq, sleep } from './device-fixtures.js';

/** Port of the (first) burst; later bursts of a test use the next ports. */
const PORT = 9000;
/** Bursts per test at most (ports PORT .. PORT + BURSTS - 1). */
const BURSTS = 3;

/** Starts a UDP burst toward the device; resolves with the number sent. */
function burst(ns: Netns, count: number, pps = 0, port = PORT): Promise<number> {
  return runPeer<{ sent: number }>(ns, 'udp-burst', ['198.18.0.2', port, count, 4, 64, pps]).then((r) => r.sent);
}

/** A datagram's key across a test's bursts (burst index * 1e6 + sequence number), or undefined for other packets. */
function keyOf(data: Uint8Array): number | undefined {
  const u = udpSeq(data);
  if (u === null || u === undefined || u.port < PORT || u.port >= PORT + BURSTS) return undefined;
  return (u.port - PORT) * 1_000_000 + u.seq;
}

/** Reads the rest through the readable until nothing came for `idleMs`, then cancels it while it waits. */
async function drainRest(tun: TunStreams, seen: Set<number>, idleMs = 400): Promise<void> {
  const reader = tun.readable.getReader();
  for (;;) {
    const next = reader.read();
    const timer = sleep(idleMs).then(() => 'idle' as const);
    const r = await Promise.race([next, timer]);
    if (r === 'idle') {
      await reader.cancel(); // the pull is waiting: nothing queued is lost
      await next;
      return;
    }
    if (r.done) return;
    const k = keyOf(r.value.data);
    if (k !== undefined) seen.add(k);
  }
}

t.test('one consumer at a time; walking away leaks nothing; every datagram accounted for', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'consumers');
  ns.disableIpv6Sync(); // the drop counter must count only the test's packets
  const tun = await openTunIn(ns, { name: 'tpc0', ipv4: { address: '198.18.0.1', prefix: 24 }, rxSlots: 256 });
  t.teardown(() => tun.close());
  // Each step that waits for traffic has a burst of its own, so a slow (loaded) test never
  // waits for datagrams that will not come; what the steps leave is drained in step 5.
  const COUNT = 6000;
  const sending = burst(ns, COUNT, 20_000);
  const seen = new Set<number>();
  const twice: number[] = [];
  const note = (p: Uint8Array): void => {
    const k = keyOf(p);
    if (k !== undefined) {
      if (seen.has(k)) twice.push(k);
      seen.add(k);
    }
  };

  // 1. for await over the device itself, broken off after 300 datagrams.
  let views = 0;
  for await (const p of tun) {
    if (p.data.buffer instanceof SharedArrayBuffer) views++;
    note(p.data);
    if (seen.size === 1) {
      t.equal(tun.activeConsumer, 'async iterator', 'the loop holds the device');
      const second = tun.packets(); // creating a generator claims nothing: its first step does
      await t.rejects(second.next(), { code: 'ERR_TUN_CONSUMER_ACTIVE' }, 'a second loop is refused');
      await t.rejects(tun.readable.getReader().read(), { code: 'ERR_TUN_CONSUMER_ACTIVE' }, 'so is the readable');
      await t.rejects(firstValueFrom(tun.packets$), { code: 'ERR_TUN_CONSUMER_ACTIVE' }, 'and packets$');
      await t.rejects(tun.batches.getReader().read(), { code: 'ERR_TUN_CONSUMER_ACTIVE' }, 'and batches');
    }
    if (seen.size >= 300) break;
  }
  t.equal(tun.activeConsumer, undefined, 'breaking out of the loop released the device');
  t.ok(views > 0, 'view mode: packets are views into shared ring memory');

  // 2. packets$ with take(): unsubscribes itself in the middle of a batch. toArray() keeps
  // packets past the retention window (retain 64 < 200), so they are copied on the way:
  // kept views would show whatever the worker wrote into their released slots since.
  const some = await firstValueFrom(tun.packets$.pipe(take(200), map((p) => p.copy()), toArray()));
  for (const p of some) note(p.data);
  await sleep(0);
  t.equal(tun.activeConsumer, undefined, 'take(200) unsubscribed and released the device');

  // 3. Async iteration again: continues with the packet after the last one taken.
  const sending2 = burst(ns, 1000, 20_000, PORT + 1);
  const before = seen.size;
  for await (const p of tun.packets()) {
    note(p.data);
    if (seen.size >= before + 300) break;
  }
  t.equal(seen.size, before + 300);

  // 4. batches (dropping what the cursor had left), then cancel.
  const sending3 = burst(ns, 1000, 20_000, PORT + 2);
  const reader = tun.batches.getReader();
  const first = await reader.read();
  const b1 = first.value!;
  let b1Releases = 0;
  const release = b1.release.bind(b1);
  b1.release = () => {
    b1Releases++;
    release();
  };
  for (let i = 0; i < b1.count; i++) note(b1.data(i));
  t.notOk(b1.released, 'a batch is valid while it is the latest');
  const second = await reader.read();
  t.equal(b1Releases, 1, 'reading the next batch released the previous one');
  delete (b1 as { release?: unknown }).release; // the pooled object goes back to its class method
  const b2 = second.value!;
  for (let i = 0; i < b2.count; i++) note(b2.data(i));
  await reader.cancel();
  t.ok(b2.released, 'cancelling released the last batch');
  t.equal(tun.activeConsumer, undefined);

  // 5. The rest through the readable, then the books: nothing unaccounted, nothing twice.
  const sent = (await sending) + (await sending2) + (await sending3);
  await drainRest(tun, seen);
  t.equal(tun.activeConsumer, undefined, 'the cancelled readable released the device');
  const dropped = await kernelDrops(ns, 'tpc0');
  const stats = tun.stats();
  t.equal(sent, COUNT + 2000);
  t.same(twice, [], `no datagram delivered twice (${twice.length} were)`);
  t.equal(
    seen.size + dropped + stats.discarded,
    sent,
    `received ${seen.size} + dropped by the kernel ${dropped} + discarded at the batches takeover ${stats.discarded} = sent ${sent}`,
  );
  t.equal(stats.malformed, 0);
  t.equal(stats.passed, stats.delivered, 'the worker passed exactly what the consumers were handed');
});

t.test('a readable left in the middle of a batch: gate back, device readable again, at most one batch discarded', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'walkaway');
  ns.disableIpv6Sync(); // the drop counter must count only the test's packets
  const MAX_BATCH = 64;
  const tun = await openTunIn(ns, { name: 'tpw0', ipv4: { address: '198.18.0.1', prefix: 24 }, maxBatch: MAX_BATCH });
  t.teardown(() => tun.close());
  const sending = burst(ns, 3000, 20_000);
  const seen = new Set<number>();
  const first = tun.readable;
  for await (const p of first) {
    const u = udpSeq(p.data);
    if (u?.port === PORT) seen.add(u.seq);
    if (seen.size === 100) break;
  }
  t.equal(tun.activeConsumer, undefined, 'breaking out cancelled the stream and released the device');
  t.not(tun.readable, first, 'the next access gives a fresh stream');
  const sent = await sending;
  await drainRest(tun, seen);
  const dropped = await kernelDrops(ns, 'tpw0');
  const missing = sent - seen.size - dropped;
  t.ok(missing >= 0 && missing < MAX_BATCH, `${missing} datagrams discarded with the cancelled stream's queue (less than one batch of ${MAX_BATCH})`);
});

t.test('copy mode hands out packets that own their bytes', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'copies');
  ns.disableIpv6Sync(); // the drop counter must count only the test's packets
  const tun = await openTunIn(ns, { name: 'tpk0', ipv4: { address: '198.18.0.1', prefix: 24 }, copy: true });
  t.teardown(() => tun.close());
  // The whole burst is queued first (ring, then the kernel's queue; the rest dropped and
  // counted), so the loop knows how many datagrams will come and never waits in vain.
  const sent = await burst(ns, 500);
  const expected = sent - (await kernelDrops(ns, 'tpk0'));
  const kept = [];
  const seqs: number[] = [];
  for await (const p of tun) {
    const u = udpSeq(p.data);
    if (u?.port !== PORT) continue;
    kept.push(p);
    seqs.push(u.seq);
    if (kept.length === expected) break;
  }
  t.ok(kept.every((p) => p.data.buffer instanceof ArrayBuffer), 'no packet is a view into the ring');
  t.ok(expected > 0 && seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `${expected} datagrams (of ${sent}) in order`);
  t.same(kept.map((p) => udpSeq(p.data)!.seq), seqs, 'kept packets stay intact after later ones were read');
  t.equal(tun.copiesPackets, true);
});
