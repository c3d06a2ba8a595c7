#!/usr/bin/env node
/**
 * tunpipe TUN<->TUN relay for the forwarder benchmark (/work/shared/bench,
 * contract in its README): creates $TUN_A and $TUN_B (default tunA/tunB) in the
 * current namespace with every queue attached, prints READY, forwards packets
 * between them in the queue workers until SIGTERM, then exits (well within 5 s).
 *
 *   node bench/relay/relay.mjs [--queues N] [--mode keep|split] [--offload on|off]
 *                              [--affinity none|spread] [--batch N]
 *
 * keep (default): offload devices, superpackets pass through whole with their
 *   virtio header (the counterpart of `cfwd -m vnet` / `-m mqvnet`);
 * split: superpackets are split into MTU-sized segments on the way in and
 *   coalesced again with GRO on the way out;
 * --offload off: plain devices (the counterpart of `cfwd -m plain` / `-m mq`).
 * On SIGTERM the per-device counters go to stderr.
 */
import { parseArgs } from 'node:util';
import { openQueues } from '@tunpipe/linux-mq';
import { DeviceBuilder } from '@tunpipe/core';

const { values } = parseArgs({
  options: {
    queues: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'keep' },
    offload: { type: 'string', default: 'on' },
    affinity: { type: 'string', default: 'none' },
    batch: { type: 'string', default: '128' },
  },
});
const queues = Number(values.queues);
const offload = values.offload !== 'off';
const device = (name) => new DeviceBuilder().name(name).offload(offload).multiQueue(queues > 1);

const set = await openQueues({
  devices: [device(process.env.TUN_A ?? 'tunA'), device(process.env.TUN_B ?? 'tunB')],
  queues,
  mode: values.mode,
  batchSize: Number(values.batch),
  affinity: values.affinity,
  handler: new URL('./forward-pair.mjs', import.meta.url),
  onHandlerError: (e) => process.stderr.write(`relay: handler error ${e.error.message}\n`),
});
process.stdout.write('READY\n');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const t = (d) => set.totals(d);
  const summary = [0, 1].map((d) => {
    const s = t(d);
    return `dev${d}: rx ${s.rxPackets} pkts ${s.rxBytes} B in ${s.rxBatches} batches, fwd ${s.forwarded}, ` +
      `tx ${s.txPackets} writes, split ${s.superpackets}->${s.segments}, gro merged ${s.groMerged}, ` +
      `gso split ${s.gsoSplit}, malformed ${s.malformed}, txErrors ${s.txErrors}, wakeups ${s.wakeups}`;
  });
  process.stderr.write(`relay: ${summary.join('\nrelay: ')}\n`);
  const timer = setTimeout(() => process.exit(1), 4000);
  await set.close();
  clearTimeout(timer);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
