/**
 * `openTun` refuses bad queue, ring, mode, handler and route options with their
 * exact code, and a refused open leaves nothing: `ip -j -d link` of the test's
 * namespace, this process's open fds and its thread count are the same before
 * and after every row, including the rows refused only after the device was
 * built (a route the kernel rejects, a handler module that does not load).
 * (Rows refused before any device exists, without a namespace: open-tun-options.test.ts.)
 */
import t from 'tap';
import { createNetns, openFds, requireNetAdmin, refusalCode, settledThreadCount, threadCount, type Netns } from '@tunpipe/testkit';
import { openTun, type OpenTunOptions } from '../src/open-tun.js';

const ROWS: Array<{ label: string; options: Record<string, unknown>; code: string }> = [
  { label: 'queues 0', options: { queues: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'queues 257', options: { queues: 257 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'mode "whole"', options: { mode: 'whole' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'rxSlots 0', options: { rxSlots: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'rxSlots 2^20 with 64 KiB slots', options: { rxSlots: 1 << 20, rxPacketCapacity: 65536 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'txSlots 1.5', options: { txSlots: 1.5 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'txPacketCapacity 65537', options: { txPacketCapacity: 65537 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'batchSize 0', options: { batchSize: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'maxBatch 0', options: { maxBatch: 0 }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'handler ""', options: { handler: '' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'handler module that does not exist', options: { handler: '/nonexistent/tp-bad-handler.js' }, code: 'ERR_TUN_HANDLER' },
  { label: 'handlerErrors "ignore"', options: { handlerErrors: 'ignore' }, code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'route without a prefix', options: { routes: ['198.18.9.0'] }, code: 'ERR_TUN_INVALID_PREFIX' },
  { label: 'route that is not an address', options: { routes: ['198.18.9/24'] }, code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'route prefix 33', options: { routes: ['198.18.9.0/33'] }, code: 'ERR_TUN_INVALID_PREFIX' },
  { label: 'the second route bad', options: { routes: ['198.18.9.0/24', 'fd00::/129'] }, code: 'ERR_TUN_INVALID_PREFIX' },
];

function links(ns: Netns): unknown {
  return ns.ipJsonSync('-d', 'link', 'show');
}


t.test(`${ROWS.length} bad openTun options: exact code, ip link, fds and threads unchanged`, async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns: Netns = createNetns(t, 'bad-opentun');
  const entry = ns.enter();
  t.teardown(() => entry.exit());
  const before = links(ns);
  const fds = openFds();
  const threads = threadCount();
  for (const row of ROWS) {
    const code = await refusalCode(() => openTun({ name: 'tpbadot0', ipv4: { address: '198.18.0.1', prefix: 24 }, ...row.options } as OpenTunOptions));
    t.equal(code, row.code, row.label);
    t.same(links(ns), before, `${row.label}: ip link unchanged`);
    t.equal(openFds(), fds, `${row.label}: no fd left open`);
    t.ok((await settledThreadCount(threads)) <= threads, `${row.label}: no thread left`);
  }
});
