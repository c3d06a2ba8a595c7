/**
 * `openQueues` refuses bad options (queue counts, ring and slot sizes, batch
 * limits, mode, handler path and policy, affinity, worker options) with their
 * exact code, and a refused open leaves nothing: `ip -j -d link` of the test's
 * namespace, this process's open fds and its thread count are the same before
 * and after every row. Each row names a device, so a build that slipped through
 * validation and was not cleaned up shows in `ip link`.
 */
import t from 'tap';
import { DeviceBuilder } from '@tunpipe/core';
import { createNetns, openFds, requireNetAdmin, refusalCode, settledThreadCount, threadCount, type Netns } from '@tunpipe/testkit';
import { openQueues, type OpenQueuesOptions } from '../src/queue-set.js';
import { checkQueueOptions } from '../src/queue-options.js';

/** A handler module that exists (compiled next to this test). */
const HANDLER = new URL('./handlers/init-count.js', import.meta.url);

/** One refused option set: the options (without devices unless given) and the code. */
interface BadOptions {
  label: string;
  /** Deliberately mistyped values included, as JavaScript callers may pass them. */
  options: Record<string, unknown>;
  code: string;
  /** Replaces the default `devices` (a builder naming tpbadq0). */
  devices?: () => unknown;
  /** True when only the built device can tell (so `checkQueueOptions` accepts the options). */
  needsDevice?: boolean;
}

const NAME = 'tpbadq0';
const builder = () => new DeviceBuilder().name(NAME);

const ROWS: BadOptions[] = [
  // devices
  { label: 'devices missing', options: {}, devices: () => undefined, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'devices empty', options: {}, devices: () => [], code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'a device that is a plain object', options: {}, devices: () => [{ name: NAME }], code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'a valid builder then junk', options: {}, devices: () => [builder(), 'tpbadq1'], code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'the same builder twice', options: {}, devices: () => { const b = builder(); return [b, b]; }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  // options that do not exist (a misspelling would otherwise be ignored)
  { label: 'unknown option "queue"', options: { queue: 2 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'unknown option "rxslots"', options: { rxslots: 64 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  // queue counts
  { label: 'queues 0', options: { queues: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'queues 257', options: { queues: 257 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'queues 1.5', options: { queues: 1.5 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'queues "2"', options: { queues: '2' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'queues NaN', options: { queues: Number.NaN }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  // mode and policies
  { label: 'mode "fast"', options: { mode: 'fast' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'mode "KEEP"', options: { mode: 'KEEP' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'handlerErrors "ignore"', options: { handlerErrors: 'ignore' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'affinity "all"', options: { affinity: 'all' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'reads "uring"', options: { reads: 'uring' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'reads true', options: { reads: true }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  // ring and slot sizes (a ring is at most 1 GiB)
  { label: 'rxSlots 0', options: { rxSlots: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'rxSlots 1.5', options: { rxSlots: 1.5 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'rxSlots 2^20 + 1', options: { rxSlots: (1 << 20) + 1 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'rxSlots "64"', options: { rxSlots: '64' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'rxPacketCapacity 0', options: { rxPacketCapacity: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'rxPacketCapacity 65537', options: { rxPacketCapacity: 65537 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'rx ring of 2^20 slots x 64 KiB (64 GiB)', options: { rxSlots: 1 << 20, rxPacketCapacity: 65536 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'txSlots 0', options: { txSlots: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'txSlots -256', options: { txSlots: -256 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'txSlots 2^20 + 1', options: { txSlots: (1 << 20) + 1 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'txPacketCapacity 0', options: { txPacketCapacity: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'tx ring of 2^15 slots x 64 KiB (2 GiB)', options: { txSlots: 1 << 15, txPacketCapacity: 65536 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'txPacketCapacity 65537', options: { txPacketCapacity: 65537 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'tx ring of 2^20 slots x 64 KiB (64 GiB)', options: { txSlots: 1 << 20, txPacketCapacity: 65536 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  // batch limits
  { label: 'batchSize 0', options: { batchSize: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'batchSize 4097', options: { batchSize: 4097 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'maxBatch 0', options: { maxBatch: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'maxBatch 65537', options: { maxBatch: 65537 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'maxOutstanding 0', options: { maxOutstanding: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'maxOutstanding 4097', options: { maxOutstanding: 4097 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'statsInterval -1', options: { statsInterval: -1 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'statsInterval NaN', options: { statsInterval: Number.NaN }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  // Node's timers run a delay above 2^31 - 1 ms (or Infinity) every 1 ms
  { label: 'statsInterval Infinity', options: { statsInterval: Number.POSITIVE_INFINITY }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'statsInterval 2^31', options: { statsInterval: 2 ** 31 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'statsInterval 0.5', options: { statsInterval: 0.5 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'affinity 3', options: { affinity: 3 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'onHandlerError "log"', options: { onHandlerError: 'log' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  // handler path and worker options
  { label: 'handler ""', options: { handler: '' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'handler 42', options: { handler: 42 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'handler module that does not exist', options: { handler: '/nonexistent/tp-bad-handler.js' }, code: 'ERR_TUN_HANDLER' },
  { label: 'handler URL that does not exist', options: { handler: new URL('file:///nonexistent/tp-bad-handler.mjs') }, code: 'ERR_TUN_HANDLER' },
  { label: 'handler relative path that does not exist', options: { handler: 'tp-bad-handler.js' }, code: 'ERR_TUN_HANDLER' },
  { label: 'handlerData a function (cannot reach a worker)', options: { handler: HANDLER, handlerData: () => 1 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'handlerData holding a symbol', options: { handler: HANDLER, handlerData: { s: Symbol('x') } }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'execArgv a string', options: { execArgv: '--inspect' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'execArgv [1]', options: { execArgv: [1] }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  // combinations the kernel device cannot serve
  { label: 'packet information with a virtio header', options: {}, devices: () => [builder().packetInformation(true).offload(true)], code: 'ERR_TUN_NOT_SUPPORTED', needsDevice: true },
];

/** The code a synchronous check throws, or 'accepted'. */
function checkCode(check: () => void): string {
  try {
    check();
  } catch (e) {
    return (e as { code?: string }).code ?? `uncoded ${String(e)}`;
  }
  return 'accepted';
}

function links(ns: Netns): unknown {
  return ns.ipJsonSync('-d', 'link', 'show');
}


t.test('checkQueueOptions refuses every row that needs no device with the code openQueues gives, opening nothing', async (t) => {
  const fds = openFds();
  for (const row of ROWS.filter((r) => r.needsDevice !== true)) {
    const devices = row.devices ? row.devices() : [builder()];
    t.equal(checkCode(() => checkQueueOptions({ ...row.options, devices } as OpenQueuesOptions)), row.code, row.label);
  }
  t.equal(openFds(), fds, 'no fd opened');
  t.doesNotThrow(() => checkQueueOptions({ devices: [builder()], queues: 2, handler: HANDLER, handlerData: { n: 1 }, statsInterval: 0 }), 'good options pass');
});

t.test(`${ROWS.length} bad openQueues options: exact code, ip link, fds and threads unchanged`, async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'bad-opts');
  const entry = ns.enter();
  t.teardown(() => entry.exit());
  const before = links(ns);
  const fds = openFds();
  const threads = threadCount();
  for (const row of ROWS) {
    const devices = row.devices ? row.devices() : [builder()];
    const code = await refusalCode(() => openQueues({ ...row.options, devices } as OpenQueuesOptions));
    t.equal(code, row.code, row.label);
    t.same(links(ns), before, `${row.label}: ip link unchanged`);
    t.equal(openFds(), fds, `${row.label}: no fd left open`);
    t.ok((await settledThreadCount(threads)) <= threads, `${row.label}: no thread left`);
  }
});
