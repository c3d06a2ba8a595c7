/**
 * Every datagram of a bounded, sequence-numbered UDP stream is accounted for:
 * received by the main thread + dropped (by the kernel on the way to the device,
 * per `ip -s link` and `tc -s qdisc`, or counted by the workers) = sent, over 1,
 * 2 and 4 queues, on both read paths of the workers (io_uring batches and
 * read(2) per packet, the `reads` option; `workers()` must report the path that
 * ran); no datagram arrives twice; flows spread over every queue.
 */
import t from 'tap';
import { requireNetAdmin, createNetns } from '@tunpipe/testkit';
import { DeviceBuilder, IoUring, isTunError } from '@tunpipe/core';
import { openIn, runPeer, kernelDrops, udpSeq, drain } from './net-fixtures.js';

const COUNT = 20_000;
const FLOWS = 32;
const PORT = 9000;

/** Whether this kernel and process may set up an io_uring (io_uring_disabled, seccomp). */
function ioUringAvailable(): boolean {
  try {
    IoUring.open({ entries: 1 }).close();
    return true;
  } catch (e) {
    if (isTunError(e) && e.code === 'ERR_TUN_IO_URING') return false;
    throw e;
  }
}

const uringReady = ioUringAvailable();

const READS = [
  { reads: 'io_uring', path: 'io_uring' },
  { reads: 'syscall', path: 'syscall' },
] as const;

for (const { reads, path } of READS) for (const queues of [1, 2, 4]) {
  const skip = reads === 'io_uring' && !uringReady ? 'io_uring is not available to this process (io_uring_disabled or seccomp)' : false;
  t.test(`reads '${reads}', ${queues} queue(s): received + dropped = sent`, { skip }, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `udpacct${queues}${reads[0]}`);
    ns.disableIpv6Sync(); // the drop counter must count only the test's packets
    const set = await openIn(ns, {
      devices: [new DeviceBuilder().name('tpu0').ipv4('198.18.0.1', 24)],
      queues,
      reads,
    });
    t.teardown(() => set.close());
    t.same(set.workers().map((w) => w.reads), new Array(queues).fill(path), `every worker reads with ${path}`);
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
    // Not vacuous: a good part arrived (the sender outruns a loaded box; the books above are exact either way).
    t.ok(received > sent / 10, `received ${received} of ${sent}`);
    t.equal(totals.delivered, totals.passed, 'the main thread got everything the workers passed');
    if (queues > 1) {
      for (let q = 0; q < queues; q++) t.ok(perQueue[q]! > 0, `queue ${q} carried ${perQueue[q]} datagrams`);
      const stats = set.stats().filter((s) => s.device === 0);
      t.same(stats.map((s) => s.rxPackets > 0), new Array(queues).fill(true), 'every worker read packets (stats)');
    }
  });
}
