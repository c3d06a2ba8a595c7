/**
 * `openTun(options)`: creates (or adopts) a TUN/TAP device, starts its queue
 * workers (linux-mq) and returns it as streams (`TunStreams`).
 *
 * ```ts
 * await using tun = await openTun({ name: 'tp0', ipv4: { address: '198.18.0.1', prefix: 24 }, queues: 2 });
 * await tun.readable.pipeThrough(answerPings()).pipeTo(tun.writable);
 * ```
 *
 * The device is described either by the plain fields below (core's
 * `DeviceBuilder` options as an object), or by a ready `builder`, or by an open
 * `device` (its fd is taken over), never by several of them. More than one
 * queue implies a multi-queue device. The device is built in the network
 * namespace of the calling thread, where `routes` are added too.
 */
import { DeviceBuilder, Device, parseCidr, type Layer, type MacInput } from '@tunpipe/core';
import { checkQueueOptions, openQueues, type OpenQueuesOptions, type QueueMode } from '@tunpipe/linux-mq';
import { TunError, describeValue } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';
import { TunStreams } from './tun-streams.js';
import type { TxQueuePolicy } from './packet-sink.js';

/** The device itself, as plain data (each field maps onto a `DeviceBuilder` method of the same name). */
export interface TunDeviceOptions {
  /** Interface name or `%d` template. Default: the kernel's `tun%d` / `tap%d`. */
  name?: string;
  /** `'l3'` TUN (IP packets, default) or `'l2'` TAP (Ethernet frames). */
  layer?: Layer;
  /** The IPv4 address; with `destination` the link is point-to-point. */
  ipv4?: { address: string; prefix: number | string; destination?: string };
  /** IPv6 addresses. */
  ipv6?: ReadonlyArray<{ address: string; prefix: number }>;
  /** MTU. Default: the kernel's (1500). */
  mtu?: number;
  /** Virtio-net header and TCP/UDP segmentation offload (superpackets). Default false. */
  offload?: boolean;
  /** MAC address (TAP only). */
  macAddr?: MacInput;
  /** Transmit queue length. */
  txQueueLen?: number;
  /** Bring the link up. Default true. */
  enable?: boolean;
  /** Owner uid (TUNSETOWNER). */
  owner?: number;
  /** Group gid (TUNSETGROUP). */
  group?: number;
  /** Keep the interface after close (TUNSETPERSIST). */
  persist?: boolean;
}

/** Options of `openTun()`. */
export interface OpenTunOptions
  extends TunDeviceOptions,
    Pick<
      OpenQueuesOptions,
      | 'rxSlots'
      | 'txSlots'
      | 'rxPacketCapacity'
      | 'txPacketCapacity'
      | 'batchSize'
      | 'maxBatch'
      | 'handler'
      | 'handlerData'
      | 'handlerErrors'
      | 'onHandlerError'
      | 'affinity'
      | 'statsInterval'
      | 'workerPool'
    > {
  /** A configured builder, instead of the device fields. */
  builder?: DeviceBuilder;
  /** An open device to take over, instead of the device fields. */
  device?: Device;
  /** Routes (CIDR text) to add through the device once it is open. */
  routes?: readonly string[];
  /** Queues, one worker thread each. Default 1; more implies a multi-queue device. */
  queues?: number;
  /** Offload devices: 'split' superpackets into segments (default) or 'keep' them whole with their virtio header. */
  mode?: QueueMode;
  /** Hand out received packets as copies that own their bytes instead of ring views. Default false. */
  copy?: boolean;
  /** View mode: packets read after a batch before its ring slots go back to the worker (0..4092). Default 64. */
  retain?: number;
  /** Stamp received packets with the time their batch was taken. Default true. */
  timestamps?: boolean;
  /** TX queue of written packets: their flow hash ('flow', default) or their own `queue` field ('packet'). */
  txQueue?: TxQueuePolicy;
  /** Microseconds a consumer that caught up polls the rings before it sleeps (0..1000, default 0; see idle-spin.ts). */
  spin?: number;
  /**
   * `readable.pipeTo(other.writable)` between this device and another opened by
   * `openTun` runs in the queue workers, which write straight to the other
   * device's fds (fused-pipe.ts). False keeps such pipes on the main thread
   * (the plain Web Streams pipeTo). A pipe fuses only when both devices allow it.
   * Default true.
   */
  fusePipes?: boolean;
}

/** Default of `retain`. */
export const DEFAULT_RETAIN = 64;
/** Largest `spin` (microseconds): a longer busy wait would hold up the event loop. */
export const MAX_SPIN = 1000;
/** Largest `retain` (linux-mq allows 4096 outstanding batches per queue; the cursor needs 4 more). */
export const MAX_RETAIN = 4092;

const DEVICE_FIELDS = [
  'name', 'layer', 'ipv4', 'ipv6', 'mtu', 'offload', 'macAddr', 'txQueueLen', 'enable', 'owner', 'group', 'persist',
] as const;
const OTHER_FIELDS = [
  'builder', 'device', 'routes', 'queues', 'mode', 'copy', 'retain', 'timestamps', 'txQueue', 'rxSlots', 'txSlots',
  'rxPacketCapacity', 'txPacketCapacity', 'batchSize', 'maxBatch', 'handler', 'handlerData', 'handlerErrors',
  'onHandlerError', 'affinity', 'statsInterval', 'spin', 'fusePipes', 'workerPool',
] as const;
const KNOWN = new Set<string>([...DEVICE_FIELDS, ...OTHER_FIELDS]);

function invalid(message: string): TunError {
  return new TunError(StreamErrorCode.INVALID_ARGUMENT, `openTun: ${message}`);
}

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${name} must be a boolean, got ${String(value)}`);
  return value;
}

/** `value` as an object with string keys, or ERR_TUN_INVALID_ARGUMENT naming `what`. */
function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be an object, got ${describeValue(value)}`);
  return value as Record<string, unknown>;
}


/** A builder for the plain device fields of `options` (each checked by the builder method of the same name). */
export function builderFromOptions(options: TunDeviceOptions): DeviceBuilder {
  const b = new DeviceBuilder();
  if (options.name !== undefined) b.name(options.name);
  if (options.layer !== undefined) b.layer(options.layer);
  if (options.ipv4 !== undefined) {
    const v4 = record(options.ipv4, 'ipv4 ({ address, prefix, destination? })');
    b.ipv4(v4.address as string, v4.prefix as number | string, v4.destination as string | undefined);
  }
  if (options.ipv6 !== undefined) {
    if (!Array.isArray(options.ipv6)) throw invalid('ipv6 must be an array of { address, prefix }');
    for (const [i, entry] of (options.ipv6 as readonly unknown[]).entries()) {
      const a = record(entry, `ipv6[${i}] ({ address, prefix })`);
      b.ipv6(a.address as string, a.prefix as number);
    }
  }
  if (options.mtu !== undefined) b.mtu(options.mtu);
  if (options.offload !== undefined) b.offload(options.offload);
  if (options.macAddr !== undefined) b.macAddr(options.macAddr);
  if (options.txQueueLen !== undefined) b.txQueueLen(options.txQueueLen);
  if (options.enable !== undefined) b.enable(options.enable);
  if (options.owner !== undefined) b.owner(options.owner);
  if (options.group !== undefined) b.group(options.group);
  if (options.persist !== undefined) b.persist(options.persist);
  return b;
}

/** What `openTun` opens, every option checked; nothing opened yet. */
interface OpenTunPlan {
  queueOptions: OpenQueuesOptions;
  routes: readonly string[];
  cursor: { copy: boolean; retain: number; maxBatch: number; timestamps: boolean; spin: number };
  txQueue: TxQueuePolicy;
  fusePipes: boolean;
}

/**
 * Checks `openTun`'s own options (the device fields, stream settings, routes)
 * and assembles the queue options; opens nothing. The queue options and the
 * builder's rules between options are checked by `openQueues` and `build()`
 * before anything exists (and by `checkTunOptions`). Only undefined means "not
 * given": null is refused like any other value an option does not take.
 */
function planOpenTun(options: OpenTunOptions): OpenTunPlan {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw invalid(`unknown option ${JSON.stringify(key)}`);
  }
  const fields = DEVICE_FIELDS.filter((k) => options[k] !== undefined);
  const sources = [options.builder !== undefined, options.device !== undefined, fields.length > 0].filter(Boolean).length;
  if (sources > 1) throw invalid('describe the device one way: builder, device, or the device fields (name, ipv4...)');
  if (options.builder !== undefined && !(options.builder instanceof DeviceBuilder)) throw invalid('builder must be a DeviceBuilder');
  if (options.device !== undefined && !(options.device instanceof Device)) throw invalid('device must be a Device');
  const retain = options.retain === undefined ? DEFAULT_RETAIN : options.retain;
  if (typeof retain !== 'number' || !Number.isInteger(retain) || retain < 0 || retain > MAX_RETAIN) {
    throw invalid(`retain must be an integer 0..${MAX_RETAIN}, got ${describeValue(retain)}`);
  }
  const spin = options.spin === undefined ? 0 : options.spin;
  if (typeof spin !== 'number' || !(spin >= 0 && spin <= MAX_SPIN)) throw invalid(`spin must be a number of microseconds 0..${MAX_SPIN}, got ${describeValue(spin)}`);
  const copy = booleanOption(options.copy, 'copy', false);
  const timestamps = booleanOption(options.timestamps, 'timestamps', true);
  const fusePipes = booleanOption(options.fusePipes, 'fusePipes', true);
  const txQueue = options.txQueue === undefined ? 'flow' : options.txQueue;
  if (txQueue !== 'flow' && txQueue !== 'packet') throw invalid(`txQueue must be 'flow' or 'packet', got ${describeValue(txQueue)}`);
  const routes = (options.routes === undefined ? [] : options.routes) as unknown;
  if (!Array.isArray(routes) || routes.some((r) => typeof r !== 'string')) throw invalid('routes must be an array of CIDR strings');
  // Each route is checked now (ERR_TUN_INVALID_ADDRESS / _PREFIX), not after the device and its workers exist.
  for (const cidr of routes as string[]) parseCidr(cidr);
  const maxBatch = options.maxBatch === undefined ? 256 : options.maxBatch;

  const spec = options.device !== undefined ? options.device : options.builder !== undefined ? options.builder : builderFromOptions(options);
  const queueOptions: OpenQueuesOptions = {
    devices: [spec],
    queues: options.queues,
    mode: options.mode,
    rxSlots: options.rxSlots,
    txSlots: options.txSlots,
    rxPacketCapacity: options.rxPacketCapacity,
    txPacketCapacity: options.txPacketCapacity,
    batchSize: options.batchSize,
    maxBatch,
    // The cursor holds at most `retain` one-packet batches plus the newest per queue.
    maxOutstanding: Math.max(16, retain + 4),
    handler: options.handler,
    handlerData: options.handlerData,
    handlerErrors: options.handlerErrors,
    onHandlerError: options.onHandlerError,
    affinity: options.affinity,
    statsInterval: options.statsInterval,
    workerPool: options.workerPool,
  };
  return { queueOptions, routes: routes as string[], cursor: { copy, retain, maxBatch, timestamps, spin }, txQueue, fusePipes };
}

/**
 * Throws the TunError `openTun(options)` would refuse `options` with, without
 * opening anything (a configuration checked up front). Errors only the kernel
 * can report (a name in use, missing privileges) still come from `openTun`.
 */
export function checkTunOptions(options: OpenTunOptions): void {
  const { queueOptions } = planOpenTun(options);
  const spec = queueOptions.devices[0];
  if (spec instanceof DeviceBuilder) spec.check();
  checkQueueOptions(queueOptions);
}

/** Opens a device as streams; see the file comment. Throws TunError (invalid options, device or worker failures). */
export async function openTun(options: OpenTunOptions = {}): Promise<TunStreams> {
  const plan = planOpenTun(options);
  const set = await openQueues(plan.queueOptions);
  try {
    for (const cidr of plan.routes) set.devices[0]!.addRoute(cidr);
  } catch (err) {
    await set.close();
    throw err;
  }
  return new TunStreams(set, { cursor: plan.cursor, txQueue: plan.txQueue, fusePipes: plan.fusePipes });
}
