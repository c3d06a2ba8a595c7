/**
 * `tunpipe capture --dev N -w FILE [--count K]`: writes the packets the kernel
 * hands to the device into a classic pcap file (LINKTYPE_RAW for TUN, ETHERNET
 * for TAP) until K packets were written or SIGINT/SIGTERM. Reading a TUN queue
 * CONSUMES its packets: attached to a device another process serves, capture
 * takes its share of the traffic away from it (see README, "attaching").
 */
import { integerOption } from './arg-parser.js';
import { CliErrorCode, usage } from './cli-error.js';
import { COMMON_OPTIONS, planOutput, report, type Command, type OutputPlan } from './command.js';
import { deviceOptionSpecs } from './device-options.js';
import { planTarget, type DeviceTarget } from './device-target.js';
import { explainAttachError } from './existing-device.js';
import { LiveStats, statsStyle } from './live-stats.js';
import { closeWithin, stopOnSignals } from './shutdown-signal.js';

interface CapturePlan {
  target: DeviceTarget;
  file: string;
  count: number;
  output: OutputPlan;
}

/** Largest --count. */
const MAX_COUNT = 1_000_000_000;

/** The `capture` command. */
export const captureCommand: Command<CapturePlan> = {
  name: 'capture',
  synopsis: 'capture --dev NAME -w FILE [--count K] [--addr CIDR]... [--queues N]',
  summary: 'write the packets a device receives to a pcap file',
  description:
    'Reads the packets the kernel sends to NAME and writes them to FILE (classic pcap, raw IP\n' +
    'for TUN, Ethernet for TAP), until K packets or SIGINT/SIGTERM. When NAME exists it is\n' +
    'attached to: a persistent device nobody holds (all its traffic), or a multi-queue device\n' +
    "(capture's own queues: the kernel gives them their flow-hash share, which the other\n" +
    'holder then does not see). A single-queue device held by another process cannot be\n' +
    'attached (ERR_TUN_DEVICE_BUSY). Otherwise NAME is created with the given options.',
  options: [
    ...deviceOptionSpecs('dev'),
    { name: 'write', short: 'w', kind: 'value', placeholder: 'FILE', help: 'pcap file to write (required)' },
    { name: 'count', short: 'c', kind: 'value', placeholder: 'K', help: `stop after K packets, 1..${MAX_COUNT}` },
    ...COMMON_OPTIONS,
  ],
  plan(args) {
    if (args.operands.length > 0) usage(CliErrorCode.USAGE, `capture takes no operands (got '${args.operands[0]}')`);
    const file = args.values.get('write');
    if (file === undefined || file === '') usage(CliErrorCode.USAGE, '-w FILE is required');
    const count = integerOption(args, 'count', 1, MAX_COUNT, 0);
    return { target: planTarget(args), file, count, output: planOutput(args) };
  },
  async run({ target, file, count, output }, io) {
    // Loaded here, not at startup: only capture needs the streams layer (and rxjs).
    const { PcapWriter, openTun } = await import('@tunpipe/streams');
    const stop = stopOnSignals();
    try {
      const tun = await openTun({ builder: target.builder, queues: target.queues }).catch((e: unknown) => {
        throw target.existing ? explainAttachError(e, target.name, target.existing) : e;
      });
      const pcap = new PcapWriter(file, { linkType: target.tap ? 'ethernet' : 'raw' });
      let written = 0;
      try {
        report(io, output, 'ready', { device: target.name, file, count: count || null, attached: target.existing !== undefined },
          `tunpipe: capturing ${target.name} to ${file}${count ? ` (${count} packets)` : ''}; Ctrl-C to stop`);
        const stats = new LiveStats({
          out: io.stdout,
          intervalMs: output.intervalMs,
          style: statsStyle(output.json, output.intervalGiven, io.stdout),
          deviceNames: [target.name],
          sample: () => tun.stats().queues,
        }).start();
        try {
          for await (const packet of tun.packets({ signal: stop.signal })) {
            await pcap.write(packet);
            if (++written === count) break;
          }
        } catch (e) {
          if (!stop.signal.aborted) throw e;
        } finally {
          stats.stop();
        }
      } finally {
        await pcap.close();
        await closeWithin(() => tun.close(), 4000);
      }
      report(io, output, 'stopped', { device: target.name, file, packets: written }, `tunpipe: ${written} packets written to ${file}`);
      return 0;
    } finally {
      stop.dispose();
    }
  },
};
