/**
 * openTun({ workerPool }): a device reopened with the same pool runs on the
 * threads the closed one gave back, and answers pings there; closing the pool
 * brings fds and threads back to the baseline.
 */
import t from 'tap';
import { requireNetAdmin, createNetns, ping, openFds, settledThreadCount, threadCount } from '@tunpipe/testkit';
import { QueueWorkerPool } from '../src/index.js';
import { echoResponder, openTunIn } from './device-fixtures.js';

t.test('a reopened device runs on the pool\'s threads', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'tunpool');
  const fds0 = openFds();
  const threads0 = threadCount();
  const pool = new QueueWorkerPool();
  t.teardown(() => pool.close());
  const tids: number[][] = [];
  for (const name of ['tpq0', 'tpq1']) {
    const tun = await openTunIn(ns, { name, ipv4: { address: '198.18.0.1', prefix: 24 }, queues: 2, workerPool: pool });
    tids.push(tun.queueSet.workers().map((w) => w.tid).sort((a, b) => a - b));
    const piping = tun.readable.pipeThrough(echoResponder()).pipeTo(tun.writable).catch(() => undefined);
    const r = await ping(ns, '198.18.0.2', { count: 3, intervalS: 0.1 });
    t.equal(r.received, 3, `${name} answers pings`);
    await tun.close();
    await piping;
  }
  t.same(tids[1], tids[0], 'the second device ran on the first one\'s threads');
  t.same(pool.counts, { started: 2, reused: 2 });
  await pool.close();
  t.equal(await settledThreadCount(threads0), threads0, 'threads back to the baseline');
  t.equal(openFds(), fds0, 'fds back to the baseline');
});
