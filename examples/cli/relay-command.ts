/**
 * `tunpipe relay A B`: a TUN<->TUN relay meeting the forwarder contract of the
 * benchmark harness (../shared/bench/README.md): device names from the operands
 * or from $TUN_A/$TUN_B, both devices created with every queue attached before
 * `READY` is printed, packets relayed in the queue workers (in-worker handler,
 * no hop through the main thread) until SIGTERM, exit within 5 s of it.
 */
import { DeviceBuilder } from '@tunpipe/core';
import { openQueues } from '@tunpipe/linux-mq';
import { choiceOption, integerOption } from './arg-parser.js';
import { CliErrorCode, usage } from './cli-error.js';
import { COMMON_OPTIONS, planOutput, report, type Command, type OutputPlan } from './command.js';
import { MAX_QUEUES } from './device-options.js';
import { serveQueues } from './queue-failure.js';
import { stopOnSignals } from './shutdown-signal.js';

interface RelayPlan {
  names: [string, string];
  builders: [DeviceBuilder, DeviceBuilder];
  queues: number;
  mode: 'keep' | 'split';
  offload: boolean;
  output: OutputPlan;
}

/** The `relay` command. */
export const relayCommand: Command<RelayPlan> = {
  name: 'relay',
  synopsis: 'relay [A B] [--queues N] [--mode keep|split] [--plain]',
  summary: 'relay packets between two new TUN devices (benchmark forwarder contract)',
  description:
    'Creates TUN devices A and B (operands, or $TUN_A and $TUN_B), attaches every queue,\n' +
    'prints READY, and relays packets between them in the queue workers until SIGINT or\n' +
    'SIGTERM (exit within 5 s). keep (default): offload superpackets pass whole with their\n' +
    'virtio header; split: they are segmented on the way in and GRO-coalesced on the way out.\n' +
    'The devices may be moved to other namespaces after READY (their fds stay valid).',
  options: [
    { name: 'queues', kind: 'value', placeholder: 'N', help: `queues per device, 1..${MAX_QUEUES} (default 1)` },
    { name: 'mode', kind: 'value', placeholder: 'keep|split', help: 'superpackets kept whole or split (default keep)' },
    { name: 'plain', kind: 'flag', help: 'devices without virtio header / offload' },
    ...COMMON_OPTIONS,
  ],
  plan(args, io) {
    let names: string[];
    if (args.operands.length === 2) names = args.operands;
    else if (args.operands.length === 0 && io.env.TUN_A && io.env.TUN_B) names = [io.env.TUN_A, io.env.TUN_B];
    else usage(CliErrorCode.USAGE, 'relay needs two device names: `relay A B`, or TUN_A and TUN_B in the environment');
    const queues = integerOption(args, 'queues', 1, MAX_QUEUES, 1);
    const mode = choiceOption(args, 'mode', ['keep', 'split'] as const, 'keep');
    const offload = !args.flags.has('plain');
    const builders = names.map((n) => {
      const b = new DeviceBuilder().name(n);
      if (n.includes('%')) usage('ERR_TUN_INVALID_NAME', `${n}: relay devices need fixed names, not templates`);
      return b.offload(offload).multiQueue(queues > 1);
    });
    if (names[0] === names[1]) usage(CliErrorCode.USAGE, `relay needs two different devices (got ${names[0]} twice)`);
    return { names: [names[0]!, names[1]!], builders: [builders[0]!, builders[1]!], queues, mode, offload, output: planOutput(args) };
  },
  async run(plan, io) {
    const stop = stopOnSignals();
    try {
      const set = await openQueues({
        devices: plan.builders,
        queues: plan.queues,
        mode: plan.mode,
        handler: new URL('./forward-handler.js', import.meta.url),
      });
      report(io, plan.output, 'ready', { devices: plan.names, queues: plan.queues, mode: plan.mode, offload: plan.offload }, 'READY');
      const { totals, closed } = await serveQueues(set, { io, output: plan.output, deviceNames: plan.names, signal: stop.signal }, () => [set.totals(0), set.totals(1)]);
      report(io, plan.output, 'stopped', { signal: String(stop.signal.reason), forwarded: totals.map((t) => t.forwarded) },
        `tunpipe: relay stopped on ${String(stop.signal.reason)}; forwarded ${plan.names[0]}→${plan.names[1]} ${totals[0]!.forwarded}, ${plan.names[1]}→${plan.names[0]} ${totals[1]!.forwarded}`);
      return closed ? 0 : 1;
    } finally {
      stop.dispose();
    }
  },
};
