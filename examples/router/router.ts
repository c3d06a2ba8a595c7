/**
 * A userspace IP router between two TUN devices, on every core: one queue per
 * core on each device, one worker per queue, and the router's handler
 * (`handler.ts`) running inside the workers, so packets go from one device's
 * queue straight to the other device's same-index queue (FORWARD verdicts) in
 * keep mode (offload superpackets pass through whole).
 *
 * ```
 *  ns A ── tpa0 ══ q0 ══ worker(A,0) ─TTL-1─► write(tpb0 q0) ══ tpb0 ── ns B
 *               ══ q1 ══ worker(A,1) ─TTL-1─► write(tpb0 q1) ══
 *               ◄═══════ worker(B,i) ◄─TTL-1─ ... (the same, the other way)
 * ```
 */
import { availableParallelism } from 'node:os';
import { DeviceBuilder, enterNetns, type Device } from '@tunpipe/core';
import { parseIpv4, parseIpv6 } from '@tunpipe/offload';
import { openQueues, type QueueSet } from '@tunpipe/linux-mq';
import type { ChecksumUpdate } from './hop-limit.js';
import type { RouterHandlerData } from './handler.js';

/** One side of the router: the network behind one of its two devices. */
export interface RouterSide {
  /** Namespace the device is created in (`ip netns` name); omit for the current one. */
  netns?: string;
  /** Device name, e.g. `tpa0`. */
  name: string;
  /** The hosts' IPv4 address on this device and its prefix, e.g. `['198.18.1.1', 24]`. */
  ipv4: readonly [string, number];
  /** The hosts' IPv6 address and prefix, e.g. `['fd00:1::1', 64]`. */
  ipv6: readonly [string, number];
  /** Prefixes routed through the device (the other side's networks). */
  routes: readonly string[];
  /** The router's own addresses on this side: the source of its ICMP errors. */
  router: { ipv4: string; ipv6: string };
}

/** Options of `startRouter`. */
export interface RouterOptions {
  /** The two sides. */
  sides: readonly [RouterSide, RouterSide];
  /** Queues (and workers) per device. Default: one per core. */
  queues?: number;
  /** IPv4 header checksum after the TTL decrement: 'incremental' (RFC 1624, default) or 'full'. */
  checksum?: ChecksumUpdate;
  /** Answer expired packets with ICMP Time Exceeded. Default true. */
  timeExceeded?: boolean;
  /** virtio-net offload on both devices (superpackets routed whole). Default true. */
  offload?: boolean;
}

/** Path of the handler module the workers load. */
export const ROUTER_HANDLER = new URL('./handler.js', import.meta.url);

/** Builds the device of `side` inside its namespace, with its addresses and routes. */
export function buildSideDevice(side: RouterSide, queues: number, offload: boolean): Device {
  const entry = side.netns === undefined ? null : enterNetns(side.netns);
  try {
    const dev = new DeviceBuilder()
      .name(side.name)
      .ipv4(side.ipv4[0], side.ipv4[1])
      .ipv6(side.ipv6[0], side.ipv6[1])
      .offload(offload)
      .multiQueue(queues > 1)
      .build();
    try {
      for (const route of side.routes) dev.addRoute(route);
    } catch (e) {
      dev.close();
      throw e;
    }
    return dev;
  } finally {
    entry?.exit();
  }
}

/** Creates both devices and starts routing between them; close the set to stop. */
export async function startRouter(options: RouterOptions): Promise<QueueSet> {
  const queues = options.queues ?? availableParallelism();
  const offload = options.offload ?? true;
  const data: RouterHandlerData = {
    checksum: options.checksum ?? 'incremental',
    timeExceeded: options.timeExceeded ?? true,
    sources: options.sides.map((s) => ({ v4: [...parseIpv4(s.router.ipv4)], v6: [...parseIpv6(s.router.ipv6)] })),
  };
  const a = buildSideDevice(options.sides[0], queues, offload);
  let b: Device;
  try {
    b = buildSideDevice(options.sides[1], queues, offload);
  } catch (e) {
    a.close();
    throw e;
  }
  try {
    return await openQueues({ devices: [a, b], queues, mode: 'keep', handler: ROUTER_HANDLER, handlerData: data });
  } catch (e) {
    a.close();
    b.close();
    throw e;
  }
}
