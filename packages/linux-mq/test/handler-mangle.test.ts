/**
 * An in-worker handler that returns mangled packets (test/handlers/mangle.ts):
 * lengths outside the slot, an IP total length that lies, non-IP bytes, a verdict
 * naming no device, a virtio header that lies (keep mode), sent back (TX) or
 * forwarded to a second device (FORWARD). The worker counts each
 * by cause (`malformed`, `handlerDrops`, `txMalformed`; the kernel drops the
 * length lie itself), the intact replies of the same batches reach the sender (a
 * UDP socket in the namespace is the oracle), and the queue keeps working.
 */
import t from 'tap';
import { createNetns, requireNetAdmin, type Netns, type TestContext } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { openIn, peerPath, handlerPath } from './net-fixtures.js';
import { MangleKind } from './handlers/mangle.js';

const KINDS = Object.keys(MangleKind).length;
const ROUNDS = 25;

async function exchange(t: TestContext, ns: Netns, count: number, kinds: number): Promise<{ sent: number; back: Record<string, number> }> {
  const peer = ns.spawn(t, 'node', [peerPath('udp-kinds'), '198.18.0.2', '7000', String(count), String(kinds), '1000']);
  const exit = await peer.wait();
  return JSON.parse(exit.stdout.trim().split('\n').pop()!) as { sent: number; back: Record<string, number> };
}

const VARIANTS = [
  { label: 'split mode, plain device, TX verdicts', keep: false, forward: false },
  { label: 'keep mode, offload device, TX verdicts', keep: true, forward: false },
  { label: 'split mode, plain devices, FORWARD to the second', keep: false, forward: true },
];

for (const { label, keep, forward } of VARIANTS) {
  t.test(`a handler returning mangled packets (${label}): counted by cause, the rest delivered`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `bad-mangle-${keep ? 'keep' : 'split'}${forward ? '-fwd' : ''}`);
    // Forwarded datagrams come in through the second device: no reverse-path filtering.
    if (forward) for (const key of ['all', 'default']) await ns.exec('sysctl', ['-qw', `net.ipv4.conf.${key}.rp_filter=0`]);
    const devices = [new DeviceBuilder().name('tpmangle0').ipv4('198.18.0.1', 24).offload(keep)];
    if (forward) devices.push(new DeviceBuilder().name('tpmangle1').ipv4('198.18.1.1', 24));
    const set = await openIn(ns, {
      devices,
      mode: keep ? 'keep' : 'split',
      handler: handlerPath('mangle'),
      handlerData: forward ? 'forward' : 'tx',
    });
    t.teardown(() => set.close());
    const got = await exchange(t, ns, KINDS * ROUNDS, KINDS);
    const gsoLieRefused = keep ? ROUNDS : 0;
    t.same(
      got.back,
      { [MangleKind.REFLECT]: ROUNDS, ...(keep ? {} : { [MangleKind.GSO_LIE]: ROUNDS }) },
      `only intact replies came back (${keep ? 'the GSO lie was refused' : 'no header to lie with: reflected intact'})`,
    );
    const s = set.totals(0);
    t.equal(s.malformed, 3 * ROUNDS, 'lengths 0, negative and past the slot: malformed');
    t.equal(s.handlerDrops, ROUNDS, 'a verdict naming no device: dropped');
    t.equal(forward ? s.forwarded : s.replied, 4 * ROUNDS, `verdicts with a valid length: ${forward ? 'forwarded' : 'replied'}`);
    t.equal(s.txMalformed, ROUNDS + gsoLieRefused, 'non-IP (and the GSO lie): refused by the kernel with EINVAL, counted malformed');
    t.equal(s.txErrors, s.txMalformed, 'no other write failed');
    t.equal(s.txPackets + s.groMerged, 4 * ROUNDS - s.txErrors, 'every other one was written (the total-length lie too: the kernel drops it)');
    // The queue still works: a clean exchange after the mangled ones.
    const again = await exchange(t, ns, 20, 1);
    t.same(again.back, { [MangleKind.REFLECT]: 20 }, 'twenty clean replies afterwards');
    t.equal(set.workers().filter((w) => !w.running).length, 0, 'the workers are still running');
  });
}
