/**
 * The device options shared by `up`, `echo` and `capture` (`--name`/`--dev`,
 * `--addr`, `--mtu`, `--queues`, `--offload`, `--tap`, `--persist`), validated
 * into a core DeviceBuilder before anything is created: the builder's setters
 * check names, addresses, prefixes and MTU and throw core's coded errors.
 */
import { DeviceBuilder, TunError } from '@tunpipe/core';
import { integerOption, type OptionSpec, type ParsedArgs } from './arg-parser.js';
import { CliErrorCode, usage } from './cli-error.js';

/** Most queues (worker threads) a device may get from the CLI. */
export const MAX_QUEUES = 64;
/** IPv6 needs this MTU (the kernel disables IPv6 below it). */
const MIN_IPV6_MTU = 1280;
/** Largest MTU of a TAP device (65535 minus the Ethernet header). */
const MAX_TAP_MTU = 65521;

/** Option table entries for a device made by the CLI. */
export function deviceOptionSpecs(nameOption: 'name' | 'dev'): OptionSpec[] {
  return [
    { name: nameOption, kind: 'value', placeholder: 'NAME', help: nameOption === 'name' ? 'interface name (default: tun%d / tap%d, chosen by the kernel)' : 'interface to attach to, or to create' },
    { name: 'addr', kind: 'list', placeholder: 'CIDR', help: 'address with prefix, IPv4 (at most one) or IPv6' },
    { name: 'mtu', kind: 'value', placeholder: 'BYTES', help: 'MTU, 68..65535 (>= 1280 with IPv6)' },
    { name: 'queues', kind: 'value', placeholder: 'N', help: `queues, one worker thread each, 1..${MAX_QUEUES} (default 1; > 1 makes a multi-queue device)` },
    { name: 'offload', kind: 'flag', help: 'virtio-net header and TCP/UDP segmentation offload' },
    { name: 'tap', kind: 'flag', help: 'TAP (Ethernet frames) instead of TUN (IP packets)' },
    { name: 'multi-queue', kind: 'flag', help: 'multi-queue device even with one queue (others may attach queues later)' },
    { name: 'persist', kind: 'flag', help: 'keep the device after exit (default: removed on exit)' },
  ];
}

/** A validated device request. */
export interface DevicePlan {
  /** The fixed name, or undefined when the kernel picks one. */
  name: string | undefined;
  builder: DeviceBuilder;
  queues: number;
  tap: boolean;
  offload: boolean;
  persist: boolean;
  /** True when --addr or --mtu asked to configure the device. */
  configures: boolean;
}

/** Reads and validates the device options; throws coded errors (usage, exit 2). */
export function planDevice(args: ParsedArgs, nameOption: 'name' | 'dev'): DevicePlan {
  const builder = new DeviceBuilder();
  const name = args.values.get(nameOption);
  if (name !== undefined) builder.name(name);
  const tap = args.flags.has('tap');
  const offload = args.flags.has('offload');
  const persist = args.flags.has('persist');
  const queues = integerOption(args, 'queues', 1, MAX_QUEUES, 1);
  builder.layer(tap ? 'l2' : 'l3').offload(offload).multiQueue(queues > 1 || args.flags.has('multi-queue'));
  if (persist) builder.persist(true);

  let v4 = 0;
  let v6 = 0;
  for (const cidr of args.lists.get('addr') ?? []) {
    const slash = cidr.lastIndexOf('/');
    if (slash < 0) usage('ERR_TUN_INVALID_PREFIX', `--addr ${cidr}: missing /prefix`);
    const address = cidr.slice(0, slash);
    const prefixText = cidr.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) usage('ERR_TUN_INVALID_PREFIX', `--addr ${cidr}: prefix '${prefixText}' is not a number`);
    const prefix = Number(prefixText);
    if (address.includes(':')) {
      builder.ipv6(address, prefix);
      v6++;
    } else {
      if (++v4 > 1) usage(CliErrorCode.USAGE, `--addr ${cidr}: at most one IPv4 address per device`);
      builder.ipv4(address, prefix);
    }
  }
  const mtuText = args.values.get('mtu');
  if (mtuText !== undefined) {
    if (!/^\d+$/.test(mtuText)) throw new TunError('ERR_TUN_INVALID_MTU', `--mtu '${mtuText}' is not a number`);
    const mtu = Number(mtuText);
    builder.mtu(mtu);
    if (tap && mtu > MAX_TAP_MTU) throw new TunError('ERR_TUN_INVALID_MTU', `--mtu ${mtu}: a TAP device takes at most ${MAX_TAP_MTU}`);
    if (v6 > 0 && mtu < MIN_IPV6_MTU) throw new TunError('ERR_TUN_INVALID_MTU', `--mtu ${mtu}: IPv6 addresses need at least ${MIN_IPV6_MTU}`);
  }
  return { name, builder, queues, tap, offload, persist, configures: v4 + v6 > 0 || mtuText !== undefined };
}
