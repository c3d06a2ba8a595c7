/**
 * A TUN→TUN relay forwarding in the workers (FORWARD verdicts, no hop through
 * the main thread) between two namespaces carries a TCP bulk transfer
 * byte-exact: a client in namespace A sends seeded random bytes to a server in
 * namespace B, both real kernel TCP stacks, and the server's SHA-256 must equal
 * the client's.
 *
 * ```
 *  ns A: tcp-bulk-peer source → 198.18.1.1  tpa0 ══fd══ worker(0,q) ─FORWARD→ write(tpb0 fd) ══ tpb0  198.18.2.1 ← tcp-bulk-peer sink: ns B
 * ```
 *
 * Variants: keep mode (superpackets pass through whole), split mode (split into
 * segments on the way in, coalesced again with GRO on the way out), one and two
 * queues, and an offload device relaying to a plain one (superpackets split and
 * checksummed on egress).
 */
import t from 'tap';
import { requireNetAdmin, createNetns, tcpBulkTransfer, type Netns } from '@tunpipe/testkit';
import { DeviceBuilder, type Device } from '@tunpipe/core';
import { openQueues } from '../src/queue-set.js';
import type { QueueMode } from '../src/worker-protocol.js';
import { handlerPath } from './net-fixtures.js';

const MEGABYTES = 48;

function build(ns: Netns, name: string, cidr: [string, number], peerNet: string, offload: boolean, multiQueue: boolean): Device {
  const entry = ns.enter();
  try {
    const dev = new DeviceBuilder().name(name).ipv4(cidr[0], cidr[1]).offload(offload).multiQueue(multiQueue).build();
    dev.addRoute(peerNet);
    return dev;
  } finally {
    entry.exit();
  }
}

interface Row {
  mode: QueueMode;
  queues: number;
  offloadB: boolean;
}

const rows: Row[] = [
  { mode: 'keep', queues: 1, offloadB: true },
  { mode: 'split', queues: 1, offloadB: true },
  { mode: 'keep', queues: 2, offloadB: true },
  { mode: 'split', queues: 2, offloadB: true },
  { mode: 'keep', queues: 1, offloadB: false },
  { mode: 'split', queues: 1, offloadB: false },
];

for (const row of rows) {
  const name = `${row.mode} mode, ${row.queues} queue(s), ${row.offloadB ? 'offload → offload' : 'offload → plain'}`;
  t.test(name, async (t) => {
    if (!requireNetAdmin(t)) return;
    const a = createNetns(t, `relaya${row.mode}`);
    const b = createNetns(t, `relayb${row.mode}`);
    const devA = build(a, 'tpa0', ['198.18.1.1', 24], '198.18.2.0/24', true, row.queues > 1);
    const devB = build(b, 'tpb0', ['198.18.2.1', 24], '198.18.1.0/24', row.offloadB, row.queues > 1);
    const set = await openQueues({
      devices: [devA, devB],
      queues: row.queues,
      mode: row.mode,
      handler: handlerPath('forward-pair'),
    });
    t.teardown(() => set.close());
    const { sent, received: got } = await tcpBulkTransfer(t, {
      from: a, to: b, address: '198.18.2.1', bytes: MEGABYTES * 1024 * 1024, seed: 20240601,
    });
    t.equal(got.bytes, MEGABYTES * 1024 * 1024, 'every byte arrived');
    t.equal(got.sha256, sent.sha256, 'byte-exact (SHA-256)');
    const ta = set.totals(0);
    const tb = set.totals(1);
    t.comment(`${(sent.bytes * 8 / sent.ms / 1e6).toFixed(2)} Gbps; A: ${JSON.stringify(ta)}`);
    t.ok(ta.forwarded > 0 && tb.forwarded > 0, 'both directions were forwarded in the workers');
    t.equal(ta.passed + tb.passed, 0, 'nothing went to the main thread');
    t.equal(ta.txErrors + tb.txErrors, 0, 'no write failed');
    if (row.mode === 'keep') {
      t.ok(ta.rxBytes / ta.rxPackets > 4000, `superpackets passed whole (mean ${(ta.rxBytes / ta.rxPackets).toFixed(0)} bytes)`);
      if (!row.offloadB) t.ok(ta.gsoSplit > 0, `superpackets split on the way to the plain device (${ta.gsoSplit})`);
    } else {
      t.ok(ta.superpackets > 0 && ta.segments > ta.superpackets, `split ${ta.superpackets} superpackets into ${ta.segments} segments`);
      if (row.offloadB) t.ok(ta.groMerged > 0, `GRO merged ${ta.groMerged} segments on the way out`);
    }
  });
}
