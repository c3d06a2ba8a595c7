/**
 * Attaching to a device that already exists (`capture`, `echo`). A process
 * attaches to a TUN/TAP interface by name with TUNSETIFF, which succeeds when
 *   - the device is persistent and no process holds it (the attacher is then its
 *     only reader and sees all its traffic), or
 *   - the device is multi-queue (IFF_MULTI_QUEUE) and has a free queue slot: the
 *     attacher gets its own queues, and the kernel spreads the device's outgoing
 *     flows over all attached queues by flow hash, so it sees ITS share only.
 * A single-queue device held by another process refuses (EBUSY). The flags must
 * match the device's (TUN/TAP, multi-queue, vnet header), so they are read from
 * sysfs (`/sys/class/net/<name>/tun_flags`, the namespace's own sysfs under
 * `ip netns exec`) instead of being asked for.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DeviceBuilder, TunError, constants, isTunError } from '@tunpipe/core';
import { CliErrorCode } from './cli-error.js';

/** True when an interface of that name exists in this namespace. */
export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** What sysfs says about an existing TUN/TAP device. */
export interface ExistingTun {
  tap: boolean;
  multiQueue: boolean;
  offload: boolean;
}

/** Reads the flags of TUN/TAP device `name`; throws ERR_TUN_DEVICE_BUSY for any other kind of link. */
export function readTunFlags(name: string): ExistingTun {
  let text: string;
  try {
    text = readFileSync(`/sys/class/net/${name}/tun_flags`, 'utf8');
  } catch {
    throw new TunError(CliErrorCode.DEVICE_BUSY, `${name} exists and is not a TUN/TAP device`);
  }
  const flags = Number.parseInt(text.trim(), 16);
  return {
    tap: (flags & constants.IFF_TAP) !== 0,
    multiQueue: (flags & constants.IFF_MULTI_QUEUE) !== 0,
    offload: (flags & constants.IFF_VNET_HDR) !== 0,
  };
}

/** A builder that attaches to `name` with the device's own flags (no configuration). */
export function attachBuilder(name: string, found: ExistingTun): DeviceBuilder {
  return new DeviceBuilder().name(name).layer(found.tap ? 'l2' : 'l3').multiQueue(found.multiQueue).offload(found.offload);
}

/** Rewrites TUNSETIFF's EBUSY into the attach contract's error; other errors pass. */
export function explainAttachError(e: unknown, name: string, found: ExistingTun): unknown {
  if (isTunError(e) && e.sysCode === 'EBUSY') {
    return new TunError(
      CliErrorCode.DEVICE_BUSY,
      found.multiQueue
        ? `${name} has no free queue (EBUSY)`
        : `${name} is a single-queue device held by another process (EBUSY): create it with \`tunpipe up --multi-queue\` (or --queues N) to share it, or with --persist and stop its holder`,
    );
  }
  return e;
}
