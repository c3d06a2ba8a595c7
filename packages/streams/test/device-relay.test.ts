/**
 * A relay written only with streams, `a.readable.pipeTo(b.writable)` and
 * `b.readable.pipeTo(a.writable)` on the main thread, between devices in two
 * namespaces, carries a TCP bulk transfer byte-exact: both ends are real kernel
 * TCP stacks, and the receiver's SHA-256 must equal the sender's.
 *
 * ```
 *  ns A: tcp-bulk-peer source → 198.18.1.1 tpa0 ══ workers ═► a.readable ─pipeTo─► b.writable ═► tpb0 198.18.2.1 → tcp-bulk-peer sink: ns B
 *                                       ◄═══════════ a.writable ◄─pipeTo─ b.readable ◄══ (ACKs)
 * ```
 *
 * Rows: keep mode (superpackets travel whole with their virtio header), split
 * mode (split on the way in, GRO-coalesced on the way out), an offload device
 * relaying to a plain one (superpackets split on egress), and two queues.
 *
 * The devices are opened with `fusePipes: false`, so the pipes really run on
 * the main thread; fused-pipe-relay.test.ts runs the fused (in-worker) relay.
 */
import t from 'tap';
import { requireNetAdmin, createNetns, tcpBulkTransfer } from '@tunpipe/testkit';
import type { QueueMode } from '@tunpipe/linux-mq';
import { openTunIn } from './device-fixtures.js';

const MIB = 32;

interface Row {
  mode: QueueMode;
  queues: number;
  offloadB: boolean;
}

const rows: Row[] = [
  { mode: 'keep', queues: 1, offloadB: true },
  { mode: 'split', queues: 1, offloadB: true },
  { mode: 'keep', queues: 1, offloadB: false },
  { mode: 'keep', queues: 2, offloadB: true },
];

for (const row of rows) {
  const name = `${row.mode} mode, ${row.queues} queue(s), offload → ${row.offloadB ? 'offload' : 'plain'}`;
  t.test(`TCP byte-exact through readable.pipeTo(writable) both ways: ${name}`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const nsA = createNetns(t, `srelaya${row.mode}`);
    const nsB = createNetns(t, `srelayb${row.mode}`);
    const a = await openTunIn(nsA, {
      name: 'tpa0', ipv4: { address: '198.18.1.1', prefix: 24 }, routes: ['198.18.2.0/24'],
      offload: true, mode: row.mode, queues: row.queues, fusePipes: false,
    });
    t.teardown(() => a.close());
    const b = await openTunIn(nsB, {
      name: 'tpb0', ipv4: { address: '198.18.2.1', prefix: 24 }, routes: ['198.18.1.0/24'],
      offload: row.offloadB, mode: row.mode, queues: row.queues, fusePipes: false,
    });
    t.teardown(() => b.close());
    const stop = new AbortController();
    const ab = a.readable.pipeTo(b.writable, { signal: stop.signal }).catch((e: unknown) => e);
    const ba = b.readable.pipeTo(a.writable, { signal: stop.signal }).catch((e: unknown) => e);

    const { sent, received: got } = await tcpBulkTransfer(t, {
      from: nsA, to: nsB, address: '198.18.2.1', bytes: MIB * 1024 * 1024, seed: 20240601,
    });
    stop.abort();
    t.match(await ab, { name: 'Error' }, 'the A→B pipe ended by the abort');
    t.match(await ba, { name: 'Error' }, 'the B→A pipe too');

    t.equal(got.bytes, MIB * 1024 * 1024, 'every byte arrived');
    t.equal(got.sha256, sent.sha256, 'byte-exact (SHA-256)');
    const sa = a.stats();
    const sb = b.stats();
    t.comment(`${((sent.bytes * 8) / sent.ms / 1e6).toFixed(2)} Gbps; A rx ${sa.rxPackets} pkts / ${sa.rxBytes} B; B tx ${sb.txPackets} writes, gro ${sb.groMerged}, split ${sb.gsoSplit}`);
    t.equal(sa.delivered, sb.sent, 'A→B: every packet read from A was written to B');
    t.equal(sb.txErrors + sa.txErrors, 0, 'no write failed');
    t.equal(sa.forwarded + sb.forwarded, 0, 'nothing was forwarded in the workers: the main thread relayed it all');
    if (row.mode === 'keep') {
      t.ok(sa.rxBytes / sa.rxPackets > 4000, `superpackets crossed the main thread whole (mean ${(sa.rxBytes / sa.rxPackets).toFixed(0)} B)`);
      if (!row.offloadB) t.ok(sb.gsoSplit > 0, `and were split on the way into the plain device (${sb.gsoSplit})`);
    } else {
      t.ok(sa.superpackets > 0 && sa.segments > sa.superpackets, `split ${sa.superpackets} superpackets into ${sa.segments} segments`);
      t.ok(sb.groMerged > 0, `GRO merged ${sb.groMerged} segments on the way out`);
    }
  });
}
