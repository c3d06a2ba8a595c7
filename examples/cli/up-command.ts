/**
 * `tunpipe up`: creates a device (addresses, MTU, queues, offload, TAP), holds it
 * until SIGINT/SIGTERM, counts what the kernel sends to it (queue workers read
 * and drop every packet in-worker) and removes it on exit unless `--persist`.
 */
import { openQueues } from '@tunpipe/linux-mq';
import { usage, CliErrorCode } from './cli-error.js';
import { COMMON_OPTIONS, planOutput, report, type Command, type OutputPlan } from './command.js';
import { deviceOptionSpecs, planDevice, type DevicePlan } from './device-options.js';
import { serveQueues } from './queue-failure.js';
import { stopOnSignals } from './shutdown-signal.js';

interface UpPlan {
  device: DevicePlan;
  output: OutputPlan;
}

/** The `up` command. */
export const upCommand: Command<UpPlan> = {
  name: 'up',
  synopsis: 'up [--name NAME] [--addr CIDR]... [--mtu BYTES] [--queues N] [--offload] [--tap] [--persist]',
  summary: 'create a device and hold it until SIGINT/SIGTERM',
  description:
    'Creates the device, prints its name, and holds it until SIGINT or SIGTERM. Packets the\n' +
    'kernel routes to it are read by one worker per queue, counted and dropped. On exit the\n' +
    'device is removed, unless --persist (then `ip link del NAME` removes it).',
  options: [...deviceOptionSpecs('name'), ...COMMON_OPTIONS],
  plan(args) {
    if (args.operands.length > 0) usage(CliErrorCode.USAGE, `up takes no operands (got '${args.operands[0]}')`);
    return { device: planDevice(args, 'name'), output: planOutput(args) };
  },
  async run({ device, output }, io) {
    const stop = stopOnSignals();
    try {
      const set = await openQueues({
        devices: [device.builder],
        queues: device.queues,
        handler: new URL('./sink-handler.js', import.meta.url),
      });
      const dev = set.devices[0]!;
      const name = dev.name();
      const addresses = dev.addresses().map((a) => `${a.address}/${a.prefix}`);
      report(io, output, 'ready', { device: name, queues: device.queues, addresses, mtu: dev.mtu(), persist: device.persist },
        `tunpipe: ${name} up (${device.queues} queue${device.queues > 1 ? 's' : ''}${addresses.length ? `, ${addresses.join(' ')}` : ''}, mtu ${dev.mtu()}); Ctrl-C to remove it`);
      const { totals, closed } = await serveQueues(set, { io, output: output, deviceNames: [name], signal: stop.signal }, () => set.totals(0));
      report(io, output, 'down', { device: name, signal: String(stop.signal.reason), rxPackets: totals.rxPackets, rxBytes: totals.rxBytes, persist: device.persist },
        `tunpipe: ${name} ${device.persist ? 'released (persistent)' : 'removed'} on ${String(stop.signal.reason)}; ${totals.rxPackets} packets received`);
      return closed ? 0 : 1;
    } finally {
      stop.dispose();
    }
  },
};
