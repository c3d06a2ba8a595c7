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
 *                                     [--affinity none|spread|apart] [--spin MICROS] [--unfused]
 *
 * By default both pipes are fused (packages/streams/src/fused-pipe.ts): the
 * queue workers of each device write its packets straight to the other's fds,
 * as `pipeTo` does between two tunpipe devices. --unfused opens the devices
 * with `fusePipes: false`, so both pipes run on the main thread (the plain Web
 * Streams pipeTo: worker → RX ring → main thread → TX ring → worker). The path
 * that ran is printed to stderr at the end (`path fused|standard`, with the
 * `piped` counter: packets the workers carried, and `delivered`/`sent`: packets
 * that crossed the main thread).
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
    unfused: { type: 'boolean', default: false },
  },
});
const options = {
  mode: values.mode,
  queues: Number(values.queues),
  offload: values.offload !== 'off',
  copy: values.copy,
  timestamps: false,
  fusePipes: !values.unfused,
  ...(Number(values.spin) > 0 ? { spin: Number(values.spin) } : {}),
};
const pin = (cpu) => (values.affinity === 'apart' ? () => cpu : values.affinity);
const a = await openTun({ name: process.env.TUN_A ?? 'tunA', ...options, affinity: pin(0) });
const b = await openTun({ name: process.env.TUN_B ?? 'tunB', ...options, affinity: pin(1) });
const stop = new AbortController();
const ended = (dir) => (err) => {
  if (!stop.signal.aborted) process.stderr.write(`relay-pipe: ${dir} ended: ${err?.code ?? ''} ${err?.message ?? err}\n`);
};
const readA = a.readable;
const readB = b.readable;
const ab = readA.pipeTo(b.writable, { signal: stop.signal }).catch(ended('A->B'));
const ba = readB.pipeTo(a.writable, { signal: stop.signal }).catch(ended('B->A'));
// Fusing takes a few milliseconds (hold, drain, switch): report READY once both pipes run their final path.
for (let waited = 0; !values.unfused && waited < 1000 && (readA.pipePath !== 'fused' || readB.pipePath !== 'fused'); waited++) {
  await new Promise((r) => setTimeout(r, 1));
}
process.stdout.write('READY\n');

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => process.exit(1), 4000);
  const paths = [readA.pipePath, readB.pipePath];
  stop.abort();
  for (const [name, tun, path] of [['A', a, paths[0]], ['B', b, paths[1]]]) {
    const s = tun.stats();
    process.stderr.write(
      `relay-pipe: ${name}: path ${path} (fusePipes ${tun.fusePipes}), piped ${s.piped}, ` +
        `rx ${s.rxPackets} pkts ${s.rxBytes} B in ${s.rxBatches} batches, delivered ${s.delivered} ` +
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
