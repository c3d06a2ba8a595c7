/**
 * A slow consumer behind `tun.readable`: backpressure stops the pipe, the pipe
 * stops pulling, the queue worker stops at a full RX ring (`ringFull`), and the
 * kernel drops what its queue cannot hold. Memory stays bounded and the books
 * close exactly: every datagram sent was either received by the consumer or
 * counted as dropped by the kernel (the streams layer itself never drops).
 */
import t from 'tap';
import { requireNetAdmin, createNetns } from '@tunpipe/testkit';
import type { Packet } from '../src/packet.js';
import { openTunIn, runPeer, kernelDrops, udpSeq, sleep } from './device-fixtures.js';

t.test('slow consumer: bounded memory, drops counted by the kernel, nothing unaccounted', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'slowread');
  const tun = await openTunIn(ns, { name: 'tps0', ipv4: { address: '198.18.0.1', prefix: 24 }, rxSlots: 256 });
  t.teardown(() => tun.close());
  const COUNT = 40_000;
  const seqs = new Set<number>();
  let last = Date.now();
  let maxRss = 0;
  const rss0 = process.memoryUsage().rss;
  const slow = new WritableStream<Packet>({
    async write(p) {
      const u = udpSeq(p.data);
      if (u?.port !== 9000) return;
      seqs.add(u.seq);
      last = Date.now();
      if (seqs.size % 16 === 0) {
        await sleep(2); // ~8 kpps at most: far below what the sender offers
        maxRss = Math.max(maxRss, process.memoryUsage().rss);
      }
    },
  });
  const stop = new AbortController();
  const piping = tun.readable.pipeTo(slow, { signal: stop.signal }).catch(() => undefined);
  const { sent } = await runPeer<{ sent: number }>(ns, 'udp-burst', ['198.18.0.2', 9000, COUNT, 8, 256]);
  while (Date.now() - last < 500) await sleep(100); // caught up: the pipe waits on an empty ring
  stop.abort();
  await piping;

  const dropped = await kernelDrops(ns, 'tps0');
  const stats = tun.stats();
  t.equal(sent, COUNT);
  t.ok(stats.ringFull > 0, `the worker found the ring full ${stats.ringFull} times`);
  t.ok(dropped > 0, `the kernel dropped ${dropped}`);
  t.equal(seqs.size + dropped, sent, `received ${seqs.size} + dropped by the kernel ${dropped} = sent ${sent}`);
  t.equal(stats.passed, stats.delivered, 'everything the worker passed reached the stream');
  t.equal(stats.discarded, 0);
  const grew = (maxRss - rss0) / 1048576;
  t.ok(grew < 48, `RSS grew by ${grew.toFixed(1)} MiB while ${dropped} packets were refused`);
});
