/**
 * Packets exactly as large as the MTU arrive whole with the default slot sizes:
 * a read that fills its slot counts as cut short (malformed), so the default RX
 * capacity must leave a byte to spare. Real `ping -s` makes IPv4 packets of
 * MTU - 1, MTU, and (TAP) a frame of MTU + 14 bytes.
 */
import t from 'tap';
import { requireNetAdmin, createNetns } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { openIn, drain } from './net-fixtures.js';

const rows: Array<{ name: string; mtu: number; offload: boolean; mode: 'split' | 'keep' }> = [
  { name: 'plain device, MTU 1500', mtu: 1500, offload: false, mode: 'split' },
  { name: 'plain device, MTU 1400', mtu: 1400, offload: false, mode: 'split' },
  { name: 'plain device, MTU 9000', mtu: 9000, offload: false, mode: 'keep' },
  { name: 'offload device, split mode, MTU 1500', mtu: 1500, offload: true, mode: 'split' },
];

for (const row of rows) {
  t.test(`${row.name}: MTU-sized packets are delivered, not counted malformed`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, 'mtusized');
    const set = await openIn(ns, {
      devices: [new DeviceBuilder().name('tpm0').ipv4('198.18.0.1', 24).mtu(row.mtu).offload(row.offload)],
      mode: row.mode,
    });
    t.teardown(() => set.close());
    const sizes = [row.mtu - 28 - 1, row.mtu - 28]; // ICMP payload: IP 20 + ICMP 8 = 28 bytes of headers
    const pinging = (async () => {
      for (const s of sizes) await ns.exec('ping', ['-4', '-n', '-c', '2', '-i', '0.2', '-W', '1', '-M', 'do', '-s', String(s), '198.18.0.2'], { timeoutMs: 10_000 });
    })();
    let done = false;
    void pinging.finally(() => {
      done = true;
    });
    const lengths = new Map<number, number>();
    await drain(set.reader(0), (p) => {
      if (p[0]! >> 4 === 4 && p[9] === 1) lengths.set(p.length, (lengths.get(p.length) ?? 0) + 1);
    }, { done: () => done, limitMs: 15_000 });
    await pinging;
    t.equal(lengths.get(row.mtu - 1), 2, `two ${row.mtu - 1}-byte echo requests`);
    t.equal(lengths.get(row.mtu), 2, `two ${row.mtu}-byte (MTU) echo requests`);
    t.equal(set.totals(0).malformed, 0, 'nothing counted malformed');
  });
}
