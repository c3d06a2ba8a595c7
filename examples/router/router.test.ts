/**
 * The router end to end: two private namespaces, each with one device of the
 * router, real `ping` (IPv4 and IPv6) and real kernel TCP between them through
 * the router's workers.
 *
 * ```
 *  ns A  198.18.1.1/24 fd00:1::1/64  tpra0 ══ router workers (TTL-1) ══ tprb0  198.18.2.1/24 fd00:2::1/64  ns B
 *        route 198.18.2.0/24, fd00:2::/64 dev tpra0        route 198.18.1.0/24, fd00:1::/64 dev tprb0
 * ```
 *
 * Oracles: ping's own `ttl=63` (the kernel's 64 minus the router's one hop),
 * ping's received count, SHA-256 on both ends of each TCP connection, ping's
 * "Time to live exceeded" from the router's address for `ping -t 1`.
 */
import t from 'tap';
import { requireNetAdmin, createNetns, ping, type Netns } from '@tunpipe/testkit';
import { startRouter, type RouterSide } from './router.js';
import type { ChecksumUpdate } from './hop-limit.js';
import { exampleSides } from './topology.js';
import { TCP_TRANSFER_SCRIPT, parseTransferReports } from '../lib/tcp-transfer.js';

const sides = (a: Netns, b: Netns): [RouterSide, RouterSide] => exampleSides(a.name, b.name);

const CONNECTIONS = 8;
const BYTES_PER_CONNECTION = 4 * 1024 * 1024;

const rows: Array<{ queues: number; checksum: ChecksumUpdate }> = [
  { queues: 2, checksum: 'incremental' },
  { queues: 1, checksum: 'full' },
];

for (const row of rows) {
  t.test(`${row.queues} queue(s), ${row.checksum} checksum update: ping and TCP from A to B through the router`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const a = createNetns(t, 'routera');
    const b = createNetns(t, 'routerb');
    const set = await startRouter({ sides: sides(a, b), queues: row.queues, checksum: row.checksum });
    t.teardown(() => set.close());

    const v4 = await ping(a, '198.18.2.1', { count: 3 });
    t.equal(v4.received, 3, 'IPv4 ping answered through the router');
    t.match(v4.output, /from 198\.18\.2\.1: icmp_seq=1 ttl=63 /, 'the reply crossed one hop: ttl 64 - 1');
    const v6 = await ping(a, 'fd00:2::1', { count: 3 });
    t.equal(v6.received, 3, 'IPv6 ping answered through the router');
    t.match(v6.output, /from fd00:2::1: icmp_seq=1 ttl=63 /, 'the reply crossed one hop: hop limit 64 - 1');

    const sink = b.spawn(t, 'node', [TCP_TRANSFER_SCRIPT, 'sink', '198.18.2.1', '5201', String(CONNECTIONS)]);
    await sink.waitForOutput(/listening/);
    const source = await a.exec('node', [TCP_TRANSFER_SCRIPT, 'source', '198.18.2.1', '5201', String(BYTES_PER_CONNECTION), String(CONNECTIONS)], { timeoutMs: 40_000 });
    t.equal(source.code, 0, `source exited 0 ${source.stderr.trim()}`);
    const got = parseTransferReports((await sink.wait()).stdout);
    const sent = parseTransferReports(source.stdout);
    t.equal(got.length, CONNECTIONS, `${CONNECTIONS} connections received`);
    t.equal(sent.length, CONNECTIONS, `${CONNECTIONS} connections sent`);
    for (const r of got) {
      t.equal(r.bytes, BYTES_PER_CONNECTION, 'every byte arrived');
      t.equal(r.sha256, sent[0]!.sha256, 'byte-exact (SHA-256)');
    }

    const ta = set.totals(0);
    const tb = set.totals(1);
    t.ok(ta.forwarded > 0 && tb.forwarded > 0, `both directions forwarded in the workers (A ${ta.forwarded}, B ${tb.forwarded})`);
    t.equal(ta.passed + tb.passed, 0, 'nothing went to the main thread');
    t.equal(ta.txErrors + tb.txErrors, 0, 'no write failed');
    t.ok(ta.rxBytes / ta.rxPackets > 2000, `keep mode: superpackets routed whole (mean ${(ta.rxBytes / ta.rxPackets).toFixed(0)} B from A)`);
    if (row.queues === 2) {
      const perQueue = [0, 1].map((q) => set.stats().filter((s) => s.queue === q).reduce((n, s) => n + s.rxPackets, 0));
      t.ok(perQueue[0]! > 0 && perQueue[1]! > 0, `packets on both queues (q0 ${perQueue[0]}, q1 ${perQueue[1]})`);
    }
  });
}

t.test('TTL 1: the router answers ICMP Time Exceeded from its own address (v4 and v6)', async (t) => {
  if (!requireNetAdmin(t)) return;
  const a = createNetns(t, 'routerta');
  const b = createNetns(t, 'routertb');
  const set = await startRouter({ sides: sides(a, b), queues: 1 });
  t.teardown(() => set.close());
  const v4 = await a.exec('ping', ['-4', '-n', '-c', '1', '-W', '2', '-t', '1', '198.18.2.1'], { timeoutMs: 10_000 });
  t.match(v4.stdout, /From 198\.18\.1\.254 icmp_seq=1 Time to live exceeded/, 'IPv4 time exceeded from the router');
  const v6 = await a.exec('ping', ['-6', '-n', '-c', '1', '-W', '2', '-t', '1', 'fd00:2::1'], { timeoutMs: 10_000 });
  t.match(v6.stdout, /From fd00:1::fe icmp_seq=1 Time exceeded: Hop limit/, 'IPv6 time exceeded from the router');
  // The worker publishes its counters after the batch's writes, so ping can see
  // the reply a moment before the counter moves: wait for it (bounded).
  for (const end = Date.now() + 2000; set.totals(0).replied < 2 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  t.equal(set.totals(0).replied, 2, 'two errors sent back out of A');
  t.equal(set.totals(0).forwarded, 0, 'nothing expired was forwarded to B');
});
