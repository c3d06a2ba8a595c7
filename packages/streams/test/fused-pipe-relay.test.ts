/**
 * Pipe fusion (fused-pipe.ts): a relay written only with `a.readable.pipeTo(b.writable)`
 * and `b.readable.pipeTo(a.writable)` runs in the queue workers (A's workers write
 * straight to B's fds and back), and still carries a TCP bulk transfer byte-exact
 * between two kernel TCP stacks; with `fusePipes: false` on either device the
 * same code takes the main-thread path. The stats say which path ran: fused
 * packets are `piped` by the source device and never `sent` through the
 * destination's writable.
 *
 * ```
 *  ns A: tcp-bulk-peer → 198.18.1.1 tpa0 ══ A workers ══════ write(B fd) ═══► tpb0 198.18.2.1 → sink: ns B
 *                                      ◄══ write(A fd) ══════ B workers ◄══ (ACKs)
 * ```
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
  /** fusePipes of A and of B. */
  fuse: [boolean, boolean];
}

const rows: Row[] = [
  { mode: 'keep', queues: 1, offloadB: true, fuse: [true, true] },
  { mode: 'split', queues: 1, offloadB: true, fuse: [true, true] },
  { mode: 'keep', queues: 1, offloadB: false, fuse: [true, true] },
  { mode: 'keep', queues: 2, offloadB: true, fuse: [true, true] },
  { mode: 'keep', queues: 1, offloadB: true, fuse: [false, true] },
  { mode: 'split', queues: 1, offloadB: true, fuse: [true, false] },
];

for (const row of rows) {
  const fused = row.fuse[0] && row.fuse[1];
  const name = `${row.mode} mode, ${row.queues} queue(s), offload → ${row.offloadB ? 'offload' : 'plain'}, fusePipes ${row.fuse.join('/')}`;
  t.test(`TCP byte-exact through a ${fused ? 'fused' : 'main-thread'} pipeTo relay: ${name}`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const tag = `${row.mode[0]}${row.queues}${row.offloadB ? 'o' : 'p'}${row.fuse.map(Number).join('')}`;
    const nsA = createNetns(t, `sfusea${tag}`);
    const nsB = createNetns(t, `sfuseb${tag}`);
    const a = await openTunIn(nsA, {
      name: 'tpa0', ipv4: { address: '198.18.1.1', prefix: 24 }, routes: ['198.18.2.0/24'],
      offload: true, mode: row.mode, queues: row.queues, fusePipes: row.fuse[0],
    });
    t.teardown(() => a.close());
    const b = await openTunIn(nsB, {
      name: 'tpb0', ipv4: { address: '198.18.2.1', prefix: 24 }, routes: ['198.18.1.0/24'],
      offload: row.offloadB, mode: row.mode, queues: row.queues, fusePipes: row.fuse[1],
    });
    t.teardown(() => b.close());
    const stop = new AbortController();
    const readA = a.readable;
    const readB = b.readable;
    const ab = readA.pipeTo(b.writable, { signal: stop.signal }).catch((e: unknown) => e);
    const ba = readB.pipeTo(a.writable, { signal: stop.signal }).catch((e: unknown) => e);
    t.ok(readA.locked && b.writable.locked, 'the pipe holds both streams locked');

    const { sent, received: got } = await tcpBulkTransfer(t, {
      from: nsA, to: nsB, address: '198.18.2.1', bytes: MIB * 1024 * 1024, seed: 20261122,
    });
    t.equal(readA.pipePath, fused ? 'fused' : 'standard', `A→B ran ${fused ? 'in the workers' : 'on the main thread'}`);
    t.equal(readB.pipePath, fused ? 'fused' : 'standard', 'B→A too');
    stop.abort();
    t.match(await ab, { name: 'AbortError' }, 'the A→B pipe ended by the abort');
    t.match(await ba, { name: 'AbortError' }, 'the B→A pipe too');
    t.notOk(readA.locked, 'A readable unlocked after the pipe');

    t.equal(got.bytes, MIB * 1024 * 1024, 'every byte arrived');
    t.equal(got.sha256, sent.sha256, 'byte-exact (SHA-256)');
    const sa = a.stats();
    const sb = b.stats();
    t.comment(`${((sent.bytes * 8) / sent.ms / 1e6).toFixed(2)} Gbps; A rx ${sa.rxPackets}, piped ${sa.piped}, delivered ${sa.delivered}; ` +
      `A tx ${sa.txPackets} writes (gro ${sa.groMerged}, split ${sa.gsoSplit}); B sent ${sb.sent}`);
    t.equal(sa.txErrors + sb.txErrors, 0, 'no write failed');
    if (fused) {
      t.ok(sa.piped > 0 && sb.piped > 0, `both directions ran in the workers (A piped ${sa.piped}, B piped ${sb.piped})`);
      t.ok(sa.piped > sa.delivered * 10, `nearly everything A received was piped (${sa.piped}), little delivered to the main thread (${sa.delivered})`);
      t.equal(sb.sent, sa.delivered, 'what crossed the main thread (before the switch) went through B\'s writable; fused packets did not');
      t.equal(sa.rxPackets, sa.piped + sa.passed, 'A: every packet read was either piped or passed');
      if (row.mode === 'split') t.ok(sa.groMerged > 0, `A's workers GRO-coalesced the segments they piped (${sa.groMerged})`);
      if (!row.offloadB) t.ok(sa.gsoSplit > 0, `A's workers split superpackets for the plain device (${sa.gsoSplit})`);
    } else {
      t.equal(sa.piped + sb.piped, 0, 'nothing was piped in the workers');
      t.equal(sa.delivered, sb.sent, 'A→B: every packet read from A crossed the main thread into B\'s writable');
    }
  });
}
