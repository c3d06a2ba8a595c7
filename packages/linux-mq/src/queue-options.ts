/**
 * Checking `openQueues` options: every option is validated here, before any
 * device is built, fd opened or thread started, so a refused open leaves
 * nothing behind and a bad value never reaches a worker.
 *
 * `checkQueueOptions` is the same check without opening anything, for
 * programs that validate their configuration up front (and for `openTun`,
 * which checks its whole options object before it builds the device).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Device, DeviceBuilder } from '@tunpipe/core';
import { TunError, IDEAL_BATCH_SIZE, describeValue } from '@tunpipe/offload';
import { nextPowerOfTwo, slotRingByteLength } from './slot-ring.js';
import { MAX_FORWARD_DEVICE } from './verdict.js';
import { QueueWorkerPool } from './worker-pool.js';
import type { ReadsOption } from './uring-reads.js';
import type { QueueMode, HandlerErrorPolicy } from './worker-protocol.js';
import type { AffinityOption, HandlerErrorEvent, OpenQueuesOptions } from './queue-set.js';

/** Largest ring (slots x slot stride) a queue may allocate: 1 GiB. */
export const MAX_RING_BYTES = 1 << 30;

/** Largest `statsInterval` (ms): Node's timers treat anything longer as 1 ms. */
export const MAX_STATS_INTERVAL = 0x7fffffff;

/** Every option `openQueues` knows; any other key is refused (a misspelt option would otherwise be ignored). */
const KNOWN_OPTIONS = new Set<string>([
  'devices', 'queues', 'mode', 'rxSlots', 'txSlots', 'rxPacketCapacity', 'txPacketCapacity', 'batchSize', 'maxBatch',
  'maxOutstanding', 'handler', 'handlerData', 'handlerErrors', 'onHandlerError', 'affinity', 'statsInterval', 'execArgv',
  'reads', 'workerPool',
] satisfies ReadonlyArray<keyof OpenQueuesOptions>);

/** The settings a set runs with, every one validated (defaults filled in where they do not depend on the device). */
export interface SetConfig {
  devices: ReadonlyArray<DeviceBuilder | Device>;
  queues: number;
  mode: QueueMode;
  batchSize: number;
  txSlots: number;
  txCapacity: number;
  maxBatch: number;
  maxOutstanding: number;
  handler: { url: string; data: unknown } | null;
  handlerErrors: HandlerErrorPolicy;
  affinity: AffinityOption;
  statsInterval: number;
  reads: ReadsOption;
  rxSlots: number | undefined;
  rxCapacity: number | undefined;
  onHandlerError: ((event: HandlerErrorEvent) => void) | undefined;
  execArgv: string[] | undefined;
  workerPool: QueueWorkerPool | null;
}

/** An ERR_TUN_INVALID_ARGUMENT refusal. */
export function invalid(message: string): TunError {
  return new TunError('ERR_TUN_INVALID_ARGUMENT', message);
}

/** `value` when it is an integer 1..max, else ERR_TUN_INVALID_ARGUMENT naming the option. */
export function positiveInt(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(`${name} must be an integer 1..${max}, got ${describeValue(value)}`);
  }
  return value;
}

/** Bytes of a ring of `slots` x `capacity`; ERR_TUN_INVALID_ARGUMENT when that exceeds MAX_RING_BYTES. */
export function ringBytes(slots: number, capacity: number, which: 'RX' | 'TX'): number {
  const bytes = slotRingByteLength(nextPowerOfTwo(Math.max(2, slots)), capacity);
  if (bytes > MAX_RING_BYTES) throw invalid(`a ${which} ring of ${slots} slots x ${capacity} bytes needs ${bytes} bytes, more than ${MAX_RING_BYTES}`);
  return bytes;
}

/**
 * The handler module as a URL. A `file:` module must exist now (ERR_TUN_HANDLER
 * otherwise), so a misspelt path is refused before anything is built; whether
 * it loads is found out by the workers.
 */
function handlerUrl(handler: unknown): string {
  let url: string;
  if (handler instanceof URL) url = handler.href;
  else if (typeof handler !== 'string' || handler === '') throw invalid('handler must be a module path or URL');
  else if (/^[a-z][a-z0-9+.-]*:/i.test(handler)) url = handler;
  else url = pathToFileURL(isAbsolute(handler) ? handler : resolve(handler)).href;
  if (url.startsWith('file:')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (e) {
      throw invalid(`handler ${url} is not a file path: ${(e as Error).message}`);
    }
    if (!existsSync(path)) throw new TunError('ERR_TUN_HANDLER', `handler module ${path} does not exist`);
  }
  return url;
}

/** The handler's data, which reaches the workers by structured clone: refused now if it cannot be cloned. */
function handlerData(data: unknown): unknown {
  try {
    structuredClone(data);
  } catch (e) {
    throw invalid(`handlerData cannot be sent to the workers (structured clone): ${(e as Error).message}`);
  }
  return data;
}

/**
 * `value`, or `fallback` when it is undefined. Only undefined means "not given":
 * null is a value like any other, and refused where it is not one the option takes.
 */
function given<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

function oneOf<T extends string>(value: unknown, fallback: T, allowed: readonly T[], name: string): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${name} must be ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

function execArgv(argv: unknown): string[] | undefined {
  if (argv === undefined) return undefined;
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) throw invalid('execArgv must be an array of strings');
  return [...(argv as string[])];
}

/**
 * Validates `openQueues` options and fills in the defaults; throws the TunError
 * `openQueues` would (ERR_TUN_INVALID_ARGUMENT, ERR_TUN_HANDLER for a handler
 * module that does not exist, ERR_TUN_CLOSED for a closed pool). Opens nothing.
 */
export function resolveQueueOptions(options: OpenQueuesOptions): SetConfig {
  if (typeof options !== 'object' || options === null) throw invalid('openQueues needs an options object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw invalid(`unknown option ${JSON.stringify(key)}`);
  }
  const devices = options.devices as unknown;
  if (!Array.isArray(devices) || devices.length === 0) throw invalid('devices must be a non-empty array of DeviceBuilder or Device');
  if (devices.length > MAX_FORWARD_DEVICE + 1) throw invalid(`at most ${MAX_FORWARD_DEVICE + 1} devices per set`);
  for (const spec of devices) {
    if (!(spec instanceof DeviceBuilder) && !(spec instanceof Device)) throw invalid('each device must be a DeviceBuilder or a Device');
  }
  if (new Set(devices).size !== devices.length) throw invalid('the same DeviceBuilder or Device is listed twice in devices');
  const queues = positiveInt(given(options.queues, 1), 'queues', 256);
  const mode = oneOf<QueueMode>(options.mode, 'split', ['split', 'keep'], 'mode');
  const handlerErrors = oneOf<HandlerErrorPolicy>(options.handlerErrors, 'drop', ['drop', 'pass', 'fatal'], 'handlerErrors');
  const batchSize = positiveInt(given(options.batchSize, IDEAL_BATCH_SIZE), 'batchSize', 4096);
  const txSlots = positiveInt(given(options.txSlots, 256), 'txSlots', 1 << 20);
  const txCapacity = positiveInt(given(options.txPacketCapacity, 65536), 'txPacketCapacity', 65536);
  const maxBatch = positiveInt(given(options.maxBatch, 256), 'maxBatch', 1 << 16);
  const maxOutstanding = positiveInt(given(options.maxOutstanding, 16), 'maxOutstanding', 4096);
  // RX defaults depend on the device (QueueSet checks the ring again with them); given values are checked now.
  const rxSlots = options.rxSlots === undefined ? undefined : positiveInt(options.rxSlots, 'rxSlots', 1 << 20);
  const rxCapacity = options.rxPacketCapacity === undefined ? undefined : positiveInt(options.rxPacketCapacity, 'rxPacketCapacity', 65536);
  if (rxSlots !== undefined && rxCapacity !== undefined) ringBytes(rxSlots, rxCapacity, 'RX');
  ringBytes(txSlots, txCapacity, 'TX');
  const statsInterval = given(options.statsInterval, 1000);
  if (typeof statsInterval !== 'number' || !Number.isInteger(statsInterval) || statsInterval < 0 || statsInterval > MAX_STATS_INTERVAL) {
    throw invalid(`statsInterval must be an integer number of ms 0..${MAX_STATS_INTERVAL}, got ${describeValue(statsInterval)}`);
  }
  const reads = oneOf<ReadsOption>(options.reads, 'auto', ['auto', 'io_uring', 'syscall'], 'reads');
  const workerPool = options.workerPool === undefined ? null : options.workerPool;
  if (options.workerPool === null || (workerPool !== null && !(workerPool instanceof QueueWorkerPool))) throw invalid(`workerPool must be a QueueWorkerPool, got ${describeValue(workerPool)}`);
  if (workerPool?.closed === true) throw new TunError('ERR_TUN_CLOSED', 'the worker pool is closed');
  const affinity = given(options.affinity, 'none');
  if (affinity !== 'none' && affinity !== 'spread' && typeof affinity !== 'function') {
    throw invalid(`affinity must be 'none', 'spread' or a function, got ${describeValue(affinity)}`);
  }
  const onHandlerError = options.onHandlerError;
  if (onHandlerError !== undefined && typeof onHandlerError !== 'function') throw invalid('onHandlerError must be a function');
  const handler = options.handler === undefined ? null : { url: handlerUrl(options.handler), data: handlerData(options.handlerData) };
  return {
    devices, queues, mode, batchSize, txSlots, txCapacity, maxBatch, maxOutstanding, handler, handlerErrors, affinity,
    statsInterval, reads, rxSlots, rxCapacity, onHandlerError, execArgv: execArgv(options.execArgv), workerPool,
  };
}

/** Throws the TunError `openQueues(options)` would refuse `options` with, without opening anything. */
export function checkQueueOptions(options: OpenQueuesOptions): void {
  resolveQueueOptions(options);
}
