#!/usr/bin/env node
/**
 * TUN<->TUN relay written only with streams, for the forwarder benchmark
 * (/work/shared/bench, contract in its README):
 *
 *     a.readable.pipeTo(b.writable);  b.readable.pipeTo(a.writable);
 *
 * Creates $TUN_A and $TUN_B (default tunA/tunB) in the current namespace with
 * every queue attached, prints READY, relays on the main thread until SIGTERM,
 * then prints both devices' counters to stderr and exits (well within 5 s).
 *
 *   node bench/streams/relay-pipe.mjs [--mode keep|split] [--queues N] [--offload on|off] [--copy]
 *                                     [--affinity none|spread|apart] [--spin MICROS]
 *
 * keep (default): offload devices, superpackets cross the main thread whole
 * with their virtio header (the counterpart of `cfwd -m vnet`); split: cut into
 * segments on the way in, GRO-coalesced on the way out; --offload off: plain
 * devices (counterpart of `cfwd -m plain`). --affinity apart pins A's queue
 * workers to CPU 0 and B's to CPU 1 (spread: queue q on the q-th CPU, for both
 * devices). --spin: openTun's `spin` (microseconds a reader that caught up polls
 * the rings before sleeping; default 0). Imports the built dist: run
 * `pnpm exec tsc -b` first.
 */
import { parseArgs } from 'node:util';
import { openTun } from '../../packages/streams/dist/src/index.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'keep' },
    queues: { type: 'string', default: '1' },
    offload: { type: 'string', default: 'on' },
    copy: { type: 'boolean', default: false },
    affinity: { type: 'string', default: 'none' },
    spin: { type: 'string', default: '0' },
  },
});
const options = {
  mode: values.mode,
  queues: Number(values.queues),
  offload: values.offload !== 'off',
  copy: values.copy,
  timestamps: false,
  ...(Number(values.spin) > 0 ? { spin: Number(values.spin) } : {}),
};
const pin = (cpu) => (values.affinity === 'apart' ? () => cpu : values.affinity);
const a = await openTun({ name: process.env.TUN_A ?? 'tunA', ...options, affinity: pin(0) });
const b = await openTun({ name: process.env.TUN_B ?? 'tunB', ...options, affinity: pin(1) });
const stop = new AbortController();
const ended = (dir) => (err) => {
  if (!stop.signal.aborted) process.stderr.write(`relay-pipe: ${dir} ended: ${err?.code ?? ''} ${err?.message ?? err}\n`);
};
const ab = a.readable.pipeTo(b.writable, { signal: stop.signal }).catch(ended('A->B'));
const ba = b.readable.pipeTo(a.writable, { signal: stop.signal }).catch(ended('B->A'));
process.stdout.write('READY\n');

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => process.exit(1), 4000);
  stop.abort();
  for (const [name, tun] of [['A', a], ['B', b]]) {
    const s = tun.stats();
    process.stderr.write(
      `relay-pipe: ${name}: rx ${s.rxPackets} pkts ${s.rxBytes} B in ${s.rxBatches} batches, delivered ${s.delivered} ` +
        `in ${s.deliveredBatches} batches, sent ${s.sent} (ring full ${s.sendRingFull}), tx ${s.txPackets} writes, ` +
        `split ${s.superpackets}->${s.segments}, gro merged ${s.groMerged}, gso split ${s.gsoSplit}, ` +
        `ringFull ${s.ringFull}, txErrors ${s.txErrors}, wakeups ${s.wakeups}\n`,
    );
  }
  await Promise.allSettled([ab, ba]);
  await Promise.all([a.close(), b.close()]);
  clearTimeout(timer);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
