/**
 * `node examples/dist/router/main.js [--queues N] [--checksum incremental|full]
 * [--no-time-exceeded] [--duration S]`: the router between two scratch
 * namespaces, with live per-queue stats, until Ctrl-C (or S seconds).
 * Try it from another terminal with the commands it prints.
 */
import { parseArgs } from 'node:util';
import { missingPrivileges } from '../lib/privileges.js';
import { ScratchNetns } from '../lib/scratch-netns.js';
import { LiveStats, finalStatsLines } from './live-stats.js';
import { startRouter } from './router.js';
import { exampleSides } from './topology.js';
import type { ChecksumUpdate } from './hop-limit.js';
import { runMain } from '../lib/run-main.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      queues: { type: 'string' },
      checksum: { type: 'string', default: 'incremental' },
      'no-time-exceeded': { type: 'boolean', default: false },
      duration: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: router [--queues N] [--checksum incremental|full] [--no-time-exceeded] [--duration SECONDS]');
    return 0;
  }
  if (values.checksum !== 'incremental' && values.checksum !== 'full') {
    console.error(`router: --checksum must be incremental or full, got ${values.checksum}`);
    return 2;
  }
  const missing = missingPrivileges();
  if (missing) {
    console.error(`router: ${missing}`);
    return 1;
  }
  using a = new ScratchNetns('router-a');
  using b = new ScratchNetns('router-b');
  const set = await startRouter({
    sides: exampleSides(a.name, b.name),
    queues: values.queues === undefined ? undefined : Number(values.queues),
    checksum: values.checksum as ChecksumUpdate,
    timeExceeded: !values['no-time-exceeded'],
  });
  const names = set.devices.map((d) => d.name());
  console.log(`router: ${names.join(' <-> ')}, ${set.attachedQueues(0).length} queue(s) each, keep mode, ${values.checksum} checksum update`);
  console.log(`  A: ip netns exec ${a.name} ping 198.18.2.1   (or fd00:2::1; ttl=63 shows the hop)`);
  console.log(`  B: ip netns exec ${b.name} iperf3 -s -B 198.18.2.1   then from A: iperf3 -c 198.18.2.1 -t 5`);
  console.log('  Ctrl-C stops it and deletes both namespaces.\n');
  const live = new LiveStats(set, names, process.stdout);
  // Printed synchronously: on a signal the namespaces' own handler deletes them and ends the process.
  const finish = (): void => {
    live.stop();
    console.log('\nfinal per-queue totals:');
    for (const line of finalStatsLines(set, names)) console.log(`  ${line}`);
  };
  await new Promise<void>((resolve) => {
    const timer = values.duration === undefined ? null : setTimeout(resolve, Number(values.duration) * 1000);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        if (timer) clearTimeout(timer);
        resolve();
      });
    }
  });
  finish();
  await set.close();
  return 0;
}

runMain('router', main);
