/**
 * The `openTunOptions` fuzz entry point: random configuration objects for
 * `openTun` (device fields, queue, ring, handler and stream settings, routes,
 * unknown keys) through `checkTunOptions`, the check `openTun` runs before it
 * opens anything.
 *
 * Every value the generator can pick carries its expected verdict (valid, or
 * the code it must be refused with), and the rules between options (one way
 * to describe the device, a MAC only on TAP, the MTU against the layer and
 * IPv6, ring sizes, handler data without a clone) are spelled out below. The
 * oracle:
 * - no cause expected: accepted;
 * - exactly one: refused with that cause's code;
 * - several: refused with one of their codes;
 * - never another exception (a TypeError from a null entry, a DataCloneError);
 * - the same verdict twice for the same object (nothing depends on state);
 * - nothing opened: no /dev/net/tun or NETLINK_ROUTE fd, no new link (checked in `finish`).
 */
import { readdirSync } from 'node:fs';
import { Device, DeviceBuilder, isTunError } from '@tunpipe/core';
import { QueueWorkerPool, MAX_RING_BYTES } from '@tunpipe/linux-mq';
import { invariant, deviceFds, type FuzzTarget, type Prng } from '@tunpipe/testkit';
import { checkTunOptions, type OpenTunOptions } from '../../src/open-tun.js';
import type { StreamsCorpus } from './seeds.js';

/** A candidate value: how to make it (fresh each time) and the code it must be refused with (null: valid). */
type Candidate = readonly [make: () => unknown, refusal: string | null];

const ARG = 'ERR_TUN_INVALID_ARGUMENT';
const NAME = 'ERR_TUN_INVALID_NAME';
const ADDRESS = 'ERR_TUN_INVALID_ADDRESS';
const PREFIX = 'ERR_TUN_INVALID_PREFIX';
const MTU = 'ERR_TUN_INVALID_MTU';
const MAC = 'ERR_TUN_INVALID_MAC';
const OPTION = 'ERR_TUN_INVALID_OPTION';
const HANDLER = 'ERR_TUN_HANDLER';
const CLOSED = 'ERR_TUN_CLOSED';

/** Codes `checkTunOptions` may refuse a configuration with. */
export const OPEN_TUN_OPTION_CODES: readonly string[] = [ARG, NAME, ADDRESS, PREFIX, MTU, MAC, OPTION, HANDLER, CLOSED];

const valid = (v: unknown): Candidate => [() => v, null];
const bad = (v: unknown, code: string): Candidate => [() => v, code];
const fresh = (make: () => unknown, code: string | null = null): Candidate => [make, code];

/** A handler module that exists (compiled next to the streams tests). */
const HANDLER_URL = new URL('../handlers/drop-odd.js', import.meta.url);
const livePool = new QueueWorkerPool();
const closedPool = new QueueWorkerPool();
void closedPool.close();

/** A fake Device: passes `instanceof`, which is all a check can look at without an fd. */
const fakeDevice = (): unknown => Object.create(Device.prototype) as unknown;

function circular(): unknown {
  const o: Record<string, unknown> = { n: 1 };
  o.self = o;
  return o;
}

/** Every option `openTun` takes, with candidate values on and around its edges. */
const POOLS: Record<string, readonly Candidate[]> = {
  name: [valid('tp0'), valid('tp%d'), valid('x'.repeat(15)), valid('ü'.repeat(7)), valid('tp-a.b_c'), valid('%d'),
    bad('', NAME), bad('x'.repeat(16), NAME), bad('ü'.repeat(8), NAME), bad('a/b', NAME), bad('a b', NAME), bad('a:b', NAME),
    bad('.', NAME), bad('..', NAME), bad('tp%d%d', NAME), bad('tp%s', NAME), bad('tp\0', NAME), bad('tpà', NAME),
    bad('tp\ud800', NAME), bad(42, NAME), bad(null, NAME)],
  layer: [valid('l3'), valid('l2'), bad('L3', OPTION), bad('tun', OPTION), bad(3, OPTION), bad(null, OPTION)],
  ipv4: [
    fresh(() => ({ address: '198.18.0.1', prefix: 24 })), fresh(() => ({ address: '198.18.0.1', prefix: '255.255.255.0' })),
    fresh(() => ({ address: '198.18.0.1', prefix: 32, destination: '198.18.0.2' })), fresh(() => ({ address: '198.19.255.254', prefix: 0 })),
    fresh(() => ({ address: '198.18.0.256', prefix: 24 }), ADDRESS), fresh(() => ({ address: 'fd00::1', prefix: 24 }), ADDRESS),
    fresh(() => ({ address: '198.18.0.1', prefix: 24, destination: '198.18.0.1' }), ADDRESS),
    fresh(() => ({ address: '198.18.0.1', prefix: 24, destination: 'x' }), ADDRESS),
    fresh(() => ({ address: '198.18.0.1', prefix: '255.0.255.0' }), ADDRESS),
    fresh(() => ({ address: '198.18.0.1', prefix: 33 }), PREFIX), fresh(() => ({ address: '198.18.0.1', prefix: 24.5 }), PREFIX),
    fresh(() => ({ address: '198.18.0.1' }), PREFIX), fresh(() => ({ prefix: 24 }), ADDRESS),
    bad('198.18.0.1/24', ARG), bad(null, ARG), fresh(() => [], ARG),
  ],
  ipv6: [
    fresh(() => []), fresh(() => [{ address: 'fd00::1', prefix: 64 }]), fresh(() => [{ address: 'fd00::1', prefix: 64 }, { address: 'fd00:1::1', prefix: 128 }]),
    fresh(() => [null], ARG), fresh(() => ['fd00::1/64'], ARG), fresh(() => [{ address: 'fd00::1' }], PREFIX),
    fresh(() => [{ address: '198.18.0.1', prefix: 64 }], ADDRESS), fresh(() => [{ address: 'fd00::1', prefix: 129 }], PREFIX),
    fresh(() => [{ address: 'fd00::1', prefix: 64 }, 7], ARG), bad('fd00::1/64', ARG), fresh(() => ({}), ARG), bad(null, ARG),
  ],
  mtu: [valid(68), valid(1280), valid(1500), valid(9000), valid(65521), valid(65535),
    bad(67, MTU), bad(65536, MTU), bad(1500.5, MTU), bad('1500', MTU), bad(Number.NaN, MTU), bad(null, MTU)],
  offload: [valid(true), valid(false), bad('yes', ARG), bad(1, ARG), bad(null, ARG)],
  macAddr: [valid('02:00:00:00:00:01'), fresh(() => Uint8Array.of(2, 0, 0, 0, 0, 1)),
    bad('01:00:5e:00:00:01', MAC), bad('00:00:00:00:00:00', MAC), bad('02:00:00:00:00', MAC), bad('02-00-00-00-00-01', MAC),
    fresh(() => new Uint8Array(5), MAC), bad(42, MAC), bad(null, MAC)],
  txQueueLen: [valid(0), valid(1000), valid(2 ** 32 - 1), bad(-1, ARG), bad(2 ** 32, ARG), bad(1.5, ARG), bad('1000', ARG), bad(null, ARG)],
  enable: [valid(true), valid(false), bad('no', ARG), bad(null, ARG)],
  owner: [valid(0), valid(65534), valid(0xfffffffe), bad(-1, ARG), bad(0xffffffff, ARG), bad('root', ARG), bad(null, ARG)],
  group: [valid(0), valid(100), bad(-2, ARG), bad(1.5, ARG)],
  persist: [valid(true), valid(false), bad(0, ARG), bad(null, ARG)],
  builder: [fresh(() => new DeviceBuilder()), fresh(() => new DeviceBuilder().name('tp%d').mtu(1400)),
    fresh(() => new DeviceBuilder().macAddr('02:00:00:00:00:01'), OPTION),
    fresh(() => new DeviceBuilder().ipv6('fd00::1', 64).mtu(1000), MTU),
    fresh(() => ({ name: 'tp0' }), ARG), bad('tp0', ARG), bad(null, ARG)],
  device: [fresh(fakeDevice), bad(3, ARG), fresh(() => ({}), ARG), bad(null, ARG)],
  routes: [fresh(() => []), fresh(() => ['198.18.9.0/24']), fresh(() => ['fd00:9::/64', '198.18.0.0/15', '0.0.0.0/0']),
    fresh(() => ['198.18.9.0'], PREFIX), fresh(() => ['x/24'], ADDRESS), fresh(() => ['198.18.9.0/33'], PREFIX),
    fresh(() => ['198.18.9.0/24', 'fd00::/129'], PREFIX), fresh(() => [24], ARG), bad('198.18.9.0/24', ARG), bad(null, ARG)],
  queues: [valid(1), valid(2), valid(256), bad(0, ARG), bad(257, ARG), bad(1.5, ARG), bad('2', ARG), bad(null, ARG)],
  mode: [valid('split'), valid('keep'), bad('KEEP', ARG), bad(1, ARG), bad(null, ARG)],
  copy: [valid(true), valid(false), bad('yes', ARG), bad(null, ARG)],
  retain: [valid(0), valid(64), valid(4092), bad(-1, ARG), bad(4093, ARG), bad(1.5, ARG), bad('5', ARG), bad(null, ARG)],
  timestamps: [valid(true), bad(1, ARG)],
  txQueue: [valid('flow'), valid('packet'), bad('hash', ARG), bad(null, ARG)],
  spin: [valid(0), valid(0.5), valid(1000), bad(-1, ARG), bad(1001, ARG), bad(Number.NaN, ARG), bad('50', ARG), bad(null, ARG)],
  fusePipes: [valid(false), bad('no', ARG), bad(null, ARG)],
  rxSlots: [valid(1), valid(1024), valid(1 << 20), bad(0, ARG), bad((1 << 20) + 1, ARG), bad(1.5, ARG), bad(null, ARG)],
  rxPacketCapacity: [valid(1), valid(1500), valid(65536), bad(0, ARG), bad(65537, ARG), bad(null, ARG)],
  txSlots: [valid(1), valid(256), valid(4096), valid(1 << 20), bad(0, ARG), bad(-256, ARG), bad(null, ARG)],
  txPacketCapacity: [valid(1), valid(2048), valid(65536), bad(0, ARG), bad(65537, ARG), bad(null, ARG)],
  batchSize: [valid(1), valid(128), valid(4096), bad(0, ARG), bad(4097, ARG), bad(null, ARG)],
  maxBatch: [valid(1), valid(256), valid(65536), bad(0, ARG), bad(65537, ARG), bad(null, ARG)],
  handler: [valid(HANDLER_URL), valid(HANDLER_URL.pathname), valid('data:text/javascript,export default {}'),
    bad('/nonexistent/tp-bad-handler.js', HANDLER), fresh(() => new URL('file:///nonexistent/tp-bad-handler.mjs'), HANDLER),
    bad('', ARG), bad(42, ARG), bad(null, ARG)],
  handlerData: [valid(undefined), fresh(() => ({ n: 1, list: [1, 2] })), fresh(() => new Map([[1, 2]])), valid(7n), fresh(circular),
    fresh(() => new SharedArrayBuffer(8)),
    fresh(() => () => 1, ARG), fresh(() => ({ s: Symbol('x') }), ARG), fresh(() => ({ f() { return 1; } }), ARG)],
  handlerErrors: [valid('drop'), valid('pass'), valid('fatal'), bad('ignore', ARG), bad(null, ARG)],
  onHandlerError: [fresh(() => () => undefined), bad('log', ARG), bad(null, ARG)],
  affinity: [valid('none'), valid('spread'), fresh(() => () => 0), bad('all', ARG), bad(3, ARG), bad(null, ARG)],
  statsInterval: [valid(0), valid(1000), valid(2 ** 31 - 1), bad(-1, ARG), bad(2 ** 31, ARG), bad(Number.POSITIVE_INFINITY, ARG),
    bad(0.5, ARG), bad(Number.NaN, ARG), bad(null, ARG)],
  workerPool: [valid(livePool), fresh(() => ({}), ARG), valid(closedPool) /* refused with CLOSED: see causes() */, bad(null, ARG)],
};

/** Keys `openTun` does not know (typos, prototype names, linux-mq options it does not take). */
const UNKNOWN_KEYS = ['nmae', 'queue', 'constructor', 'toString', '__proto__', 'reads', 'execArgv', 'maxOutstanding', ''];

const DEVICE_FIELDS = ['name', 'layer', 'ipv4', 'ipv6', 'mtu', 'offload', 'macAddr', 'txQueueLen', 'enable', 'owner', 'group', 'persist'];

/** A random configuration and the refusal codes each of its values and rules calls for. */
interface Generated {
  options: Record<string, unknown>;
  /** One code per reason to refuse (a value, or a rule between values). */
  causes: string[];
  /** The configuration as JSON-ish text, for failure reports. */
  note: string;
}

function generate(rng: Prng): Generated {
  const options: Record<string, unknown> = {};
  const refusal = new Map<string, string | null>();
  // The device described by its fields (mostly), a builder, a device, or (rarely) several ways at once.
  const way = rng.int(10);
  const keys = Object.keys(POOLS).filter((k) =>
    way < 7 ? k !== 'builder' && k !== 'device' : way === 7 ? !DEVICE_FIELDS.includes(k) && k !== 'device' : way === 8 ? !DEVICE_FIELDS.includes(k) && k !== 'builder' : true);
  // Each value valid with a high probability, so that configurations with many
  // options are often all valid (every value must then be accepted together) and
  // often have exactly one bad value (which must be the one refused).
  const badChance = rng.pick([0, 0.05, 0.15, 0.5]);
  const count = rng.chance(0.3) ? rng.range(6, 20) : rng.range(0, 6);
  for (let i = 0; i < count; i++) {
    const key = rng.pick(keys);
    const pool = POOLS[key]!;
    const wantBad = rng.chance(badChance);
    const choices = pool.filter(([, code]) => (code !== null) === wantBad);
    const [make, code] = rng.pick(choices.length > 0 ? choices : pool);
    options[key] = make();
    refusal.set(key, code);
  }
  const causes: string[] = [];
  if (rng.chance(0.05)) {
    const key = rng.pick(UNKNOWN_KEYS);
    Object.defineProperty(options, key, { value: 1, enumerable: true, configurable: true, writable: true });
    causes.push(ARG);
  }
  for (const code of refusal.values()) if (code !== null) causes.push(code);
  const has = (k: string): boolean => options[k] !== undefined;
  const ok = (k: string): boolean => has(k) && refusal.get(k) === null;
  // One way to describe the device.
  const fields = DEVICE_FIELDS.filter(has).length > 0;
  if ([has('builder'), has('device'), fields].filter(Boolean).length > 1) causes.push(ARG);
  // Rules between the device fields (DeviceBuilder.check), when the fields are what describes it.
  else if (fields) {
    const layer = ok('layer') ? (options.layer as string) : has('layer') ? undefined : 'l3';
    if (ok('macAddr') && layer === 'l3') causes.push(OPTION);
    if (ok('mtu') && layer === 'l2' && (options.mtu as number) > 65521) causes.push(MTU);
    if (ok('mtu') && ok('ipv6') && (options.ipv6 as unknown[]).length > 0 && (options.mtu as number) < 1280) causes.push(MTU);
  }
  // Rings are at most MAX_RING_BYTES (TX defaults: 256 slots of 64 KiB; RX checked when both are given).
  const ringOver = (slots: number, capacity: number): boolean => ringBytes(slots, capacity) > MAX_RING_BYTES;
  if ((ok('txSlots') || !has('txSlots')) && (ok('txPacketCapacity') || !has('txPacketCapacity'))) {
    if (ringOver(has('txSlots') ? (options.txSlots as number) : 256, has('txPacketCapacity') ? (options.txPacketCapacity as number) : 65536)) causes.push(ARG);
  }
  if (ok('rxSlots') && ok('rxPacketCapacity') && ringOver(options.rxSlots as number, options.rxPacketCapacity as number)) causes.push(ARG);
  // Handler data is checked (structured clone) only with a handler.
  if (!has('handler') && has('handlerData') && refusal.get('handlerData') !== null) causes.splice(causes.indexOf(refusal.get('handlerData')!), 1);
  if (options.workerPool === closedPool) causes.push(CLOSED);
  return { options, causes, note: describeOptions(options) };
}

/**
 * Bytes of a ring of `slots` x `capacity` as slot-ring.ts's diagram lays it
 * out: slots rounded up to a power of two (at least 2); a control block of five
 * 64-byte lines plus one state byte and one length word per slot, padded to a
 * line; then the slots, each the 10-byte virtio header plus the capacity, padded
 * to a line. Written out here, not imported, so the oracle does not reuse the
 * code under test (the pools keep every ring far from the 1 GiB limit anyway).
 */
function ringBytes(slots: number, capacity: number): number {
  const line = (n: number): number => Math.ceil(n / 64) * 64;
  let n = 2;
  while (n < slots) n *= 2;
  return line(5 * 64 + 5 * n) + n * line(10 + capacity);
}

function describeOptions(options: Record<string, unknown>): string {
  return JSON.stringify(options, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'function') return '[function]';
    if (typeof v === 'symbol') return String(v);
    if (v instanceof URL) return `URL(${v.href})`;
    if (v instanceof DeviceBuilder) return `DeviceBuilder(${JSON.stringify(v.options(), (_k2, x: unknown) => (x instanceof Uint8Array ? [...x] : x))})`;
    if (v instanceof QueueWorkerPool) return v === closedPool ? '[closed pool]' : '[pool]';
    if (v instanceof Device) return '[Device]';
    if (v instanceof Map) return '[Map]';
    if (v instanceof SharedArrayBuffer) return '[SharedArrayBuffer]';
    if (typeof v === 'object' && v !== null && (v as { self?: unknown }).self === v) return '[circular]';
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v;
  });
}

/** The verdict of one check: undefined when accepted, else the error. */
function verdict(options: Record<string, unknown>): unknown {
  try {
    checkTunOptions(options as OpenTunOptions);
    return undefined;
  } catch (e) {
    return e;
  }
}


let before: { links: string[]; deviceFds: number } | undefined;

/** `checkTunOptions` on random configurations; see the file comment. */
export const openTunOptionsTarget: FuzzTarget<StreamsCorpus> = {
  name: 'openTunOptions',
  codes: OPEN_TUN_OPTION_CODES,
  run(rng, _corpus, input) {
    before ??= { links: readdirSync('/sys/class/net').sort(), deviceFds: deviceFds() };
    const g = generate(rng);
    input.note = `${g.note} expected: ${g.causes.length === 0 ? 'accepted' : g.causes.join(' | ')}`;
    const first = verdict(g.options);
    const again = verdict(g.options);
    if (first !== undefined) {
      invariant(isTunError(first), `refused with something other than a TunError: ${String(first)}`);
      invariant(isTunError(again) && again.code === first.code && again.message === first.message, 'a second check of the same object gave another verdict');
      invariant(g.causes.length > 0, `refused although every value is valid: ${first.code}: ${first.message}`);
      invariant(g.causes.includes(first.code), `refused with ${first.code} (${first.message}), expected ${g.causes.join(' | ')}`);
      throw first;
    }
    invariant(again === undefined, 'a second check of the same object gave another verdict');
    invariant(g.causes.length === 0, `accepted, expected a refusal with ${g.causes.join(' | ')}`);
  },
  finish() {
    if (before === undefined) return;
    invariant(deviceFds() === before.deviceFds, 'a /dev/net/tun or NETLINK_ROUTE fd was opened');
    invariant(JSON.stringify(readdirSync('/sys/class/net').sort()) === JSON.stringify(before.links), 'a link appeared or went away');
  },
};
