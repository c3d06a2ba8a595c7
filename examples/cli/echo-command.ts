/**
 * `tunpipe echo --dev N`: answers ICMP/ICMPv6 echo and UDP echo (port 7) on a
 * TUN device from userspace, in the queue workers (examples/echo/echo-handler.ts).
 * Attaches to the device when it exists, creates it otherwise.
 */
import { openQueues } from '@tunpipe/linux-mq';
import { CliErrorCode, usage } from './cli-error.js';
import { COMMON_OPTIONS, planOutput, report, type Command, type OutputPlan } from './command.js';
import { deviceOptionSpecs } from './device-options.js';
import { planTarget, type DeviceTarget } from './device-target.js';
import { explainAttachError } from './existing-device.js';
import { serveQueues } from './queue-failure.js';
import { stopOnSignals } from './shutdown-signal.js';

interface EchoPlan {
  target: DeviceTarget;
  output: OutputPlan;
}

/** The `echo` command. */
export const echoCommand: Command<EchoPlan> = {
  name: 'echo',
  synopsis: 'echo --dev NAME [--addr CIDR]... [--mtu BYTES] [--queues N]',
  summary: 'answer ping (v4/v6) and UDP echo (port 7) on a TUN device',
  description:
    'Answers ICMP echo, ICMPv6 echo and UDP port 7 from userspace: each queue worker turns\n' +
    'requests into replies in place and writes them back. Other packets are dropped.\n' +
    'When NAME exists it is attached to (see README: a persistent device, or a multi-queue\n' +
    'one with a free queue); otherwise it is created with the given options and removed on exit.',
  options: [...deviceOptionSpecs('dev').filter((o) => o.name !== 'tap'), ...COMMON_OPTIONS],
  plan(args) {
    if (args.operands.length > 0) usage(CliErrorCode.USAGE, `echo takes no operands (got '${args.operands[0]}')`);
    const target = planTarget(args);
    if (target.tap) usage(CliErrorCode.USAGE, `${target.name} is a TAP device: echo answers IP packets (TUN)`);
    return { target, output: planOutput(args) };
  },
  async run({ target, output }, io) {
    const stop = stopOnSignals();
    try {
      const set = await openQueues({
        devices: [target.builder],
        queues: target.queues,
        handler: new URL('../echo/echo-handler.js', import.meta.url),
      }).catch((e: unknown) => {
        throw target.existing ? explainAttachError(e, target.name, target.existing) : e;
      });
      report(io, output, 'ready', { device: target.name, queues: target.queues, attached: target.existing !== undefined },
        `tunpipe: answering echo on ${target.name} (${target.existing ? 'attached' : 'created'}, ${target.queues} queue${target.queues > 1 ? 's' : ''}); Ctrl-C to stop`);
      const { totals, closed } = await serveQueues(set, { io, output: output, deviceNames: [target.name], signal: stop.signal }, () => set.totals(0));
      report(io, output, 'stopped', { device: target.name, received: totals.rxPackets, replied: totals.replied },
        `tunpipe: echo stopped; ${totals.rxPackets} packets received, ${totals.replied} answered`);
      return closed ? 0 : 1;
    } finally {
      stop.dispose();
    }
  },
};
