/**
 * diagnostics_channel publications (lifecycle, periodic stats) and CPU pinning
 * of the workers, as seen from outside the worker (sched_getaffinity of its
 * thread id through /proc).
 */
import t from 'tap';
import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { requireNetAdmin, createNetns } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { openIn } from './net-fixtures.js';
import { CHANNELS } from '../src/diagnostics.js';
import { currentThreadCpus } from '../src/cpu-affinity.js';
import type { QueueStats } from '../src/queue-stats.js';

t.test('lifecycle events and periodic stats', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'diag');
  const events: string[] = [];
  const stats: QueueStats[][] = [];
  const onLife = (m: unknown): void => {
    const e = m as { device: number; queue: number; event: string };
    events.push(`${e.device}/${e.queue} ${e.event}`);
  };
  const onStats = (m: unknown): void => void stats.push((m as { stats: QueueStats[] }).stats);
  diagnostics.subscribe(CHANNELS.lifecycle, onLife);
  diagnostics.subscribe(CHANNELS.stats, onStats);
  t.teardown(() => {
    diagnostics.unsubscribe(CHANNELS.lifecycle, onLife);
    diagnostics.unsubscribe(CHANNELS.stats, onStats);
  });
  const set = await openIn(ns, { devices: [new DeviceBuilder().name('tpg0').ipv4('198.18.0.1', 24)], queues: 2, statsInterval: 50 });
  t.same(events.sort(), ['0/0 ready', '0/1 ready']);
  await set.detachQueue(0, 1);
  await set.attachQueue(0, 1);
  await new Promise((r) => setTimeout(r, 180));
  t.ok(stats.length >= 2, `stats published ${stats.length} times in 180 ms`);
  t.same(stats.at(-1)!.map((s) => `${s.device}/${s.queue}`), ['0/0', '0/1'], 'one snapshot per queue');
  await set.close();
  t.same(events.slice(2, 4), ['0/1 detached', '0/1 attached'], 'detach and attach were announced');
  t.same(events.filter((e) => e.endsWith('exit')).sort(), ['0/0 exit', '0/1 exit'], 'both workers reported their exit');
  const n = stats.length;
  await new Promise((r) => setTimeout(r, 120));
  t.equal(stats.length, n, 'no stats after close');
});

t.test("affinity: each worker thread is pinned where asked ('spread' and a function)", async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'pin');
  const cpus = currentThreadCpus();
  const allowedOf = (tid: number): string => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'))![1]!;
  const spread = await openIn(ns, { devices: [new DeviceBuilder().name('tpp0')], queues: 2, affinity: 'spread' });
  try {
    for (const w of spread.workers()) {
      const want = cpus[w.queue % cpus.length]!;
      t.same(w.affinity, [want], `queue ${w.queue} reports CPU ${want}`);
      t.equal(allowedOf(w.tid), String(want), `the kernel agrees for thread ${w.tid}`);
    }
  } finally {
    await spread.close();
  }
  const last = cpus[cpus.length - 1]!;
  const fn = await openIn(ns, { devices: [new DeviceBuilder().name('tpp1')], affinity: () => last });
  try {
    t.same(fn.workers()[0]!.affinity, [last]);
    t.equal(allowedOf(fn.workers()[0]!.tid), String(last));
  } finally {
    await fn.close();
  }
  await t.rejects(openIn(ns, { devices: [new DeviceBuilder().name('tpp2')], affinity: () => 5000 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});
