/**
 * `--dev NAME` of `capture` and `echo`: attach to the device when it exists
 * (contract in existing-device.ts), create it from the device options otherwise.
 * Decided while planning, so a bad combination is a usage error (exit 2).
 */
import type { DeviceBuilder } from '@tunpipe/core';
import type { ParsedArgs } from './arg-parser.js';
import { CliErrorCode, usage } from './cli-error.js';
import { planDevice, type DevicePlan } from './device-options.js';
import { attachBuilder, linkExists, readTunFlags, type ExistingTun } from './existing-device.js';

/** The device a command will open. */
export interface DeviceTarget {
  name: string;
  builder: DeviceBuilder;
  queues: number;
  tap: boolean;
  /** Set when the device existed: the command attaches to it (and never removes it). */
  existing: ExistingTun | undefined;
  plan: DevicePlan;
}

/** Reads `--dev` and the device options. */
export function planTarget(args: ParsedArgs): DeviceTarget {
  const plan = planDevice(args, 'dev');
  if (plan.name === undefined) usage(CliErrorCode.USAGE, '--dev NAME is required');
  if (plan.name.includes('%')) usage('ERR_TUN_INVALID_NAME', `--dev ${plan.name}: give a fixed name, not a template`);
  if (!linkExists(plan.name)) return { name: plan.name, builder: plan.builder, queues: plan.queues, tap: plan.tap, existing: undefined, plan };
  const existing = readTunFlags(plan.name);
  if (plan.configures || plan.persist || args.flags.has('tap') || args.flags.has('offload') || args.flags.has('multi-queue')) {
    usage(CliErrorCode.USAGE, `${plan.name} exists: --addr, --mtu, --tap, --offload, --multi-queue and --persist only apply to a device this command creates`);
  }
  if (plan.queues > 1 && !existing.multiQueue) {
    usage(CliErrorCode.DEVICE_BUSY, `${plan.name} is a single-queue device: it cannot take ${plan.queues} queues`);
  }
  return { name: plan.name, builder: attachBuilder(plan.name, existing), queues: plan.queues, tap: existing.tap, existing, plan };
}
