/**
 * QueueWorkerPool: queue sets opened with `workerPool` take idle threads before
 * starting new ones and give them back on close(); idle threads exit on
 * close() or after `idleTimeout`; threads started with other execArgv are not
 * mixed; a reused thread is unpinned when its new queue asks for no affinity;
 * a handler module is imported once per thread while init() runs per set; bad
 * options are refused before anything is created.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { DeviceBuilder } from '@tunpipe/core';
import { requireNetAdmin, createNetns, openFds, ping, settledArrayBuffers, settledThreadCount, threadCount, type Netns } from '@tunpipe/testkit';
import { QueueWorkerPool } from '../src/worker-pool.js';
import { openQueues, type OpenQueuesOptions, type QueueSet } from '../src/queue-set.js';
import { currentThreadCpus } from '../src/cpu-affinity.js';
import { handlerPath, openIn, peerPath } from './net-fixtures.js';

/** Polls `cond` every 10 ms for up to `limitMs`. */
async function until(cond: () => boolean, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

async function linkExists(ns: Netns, name: string): Promise<boolean> {
  const links = JSON.parse(await ns.ip('-j', 'link', 'show')) as Array<{ ifname: string }>;
  return links.some((l) => l.ifname === name);
}

function tids(set: QueueSet): number[] {
  return set.workers().map((w) => w.tid).sort((a, b) => a - b);
}

/** A set with one device `name` (198.18.0.1/24 when `ipv4`) inside `ns`. */
function open(ns: Netns, name: string, pool: QueueWorkerPool, extra: Partial<OpenQueuesOptions> = {}): Promise<QueueSet> {
  return openIn(ns, { devices: [new DeviceBuilder().name(name).ipv4('198.18.0.1', 24)], queues: 2, execArgv: [], workerPool: pool, ...extra });
}

t.test('a second set reuses the first set\'s threads; close() of the pool ends them', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'pool');
  const threads0 = threadCount();
  const fds0 = openFds();
  const pool = new QueueWorkerPool();
  t.teardown(() => pool.close());
  const first = await open(ns, 'tpw0', pool, { handler: handlerPath('icmp-echo') });
  const firstTids = tids(first);
  await first.close();
  t.equal(pool.idleThreads, 2, 'both threads idle in the pool after close()');
  t.ok(threadCount() >= threads0 + 2, 'and alive');
  t.notOk(await linkExists(ns, 'tpw0'), 'but the set\'s queue fds are closed: the kernel removed the device with its last fd');

  const second = await open(ns, 'tpw1', pool, { handler: handlerPath('icmp-echo') });
  t.same(tids(second), firstTids, 'the second set runs on the same threads');
  t.same(pool.counts, { started: 2, reused: 2 }, 'two started, two reused');
  t.equal(pool.idleThreads, 0, 'none idle while the set runs');
  t.same((await ping(ns, '198.18.0.2', { count: 2 })).received, 2, 'the second set answers pings on reused threads');
  await second.close();
  t.equal(pool.idleThreads, 2, 'both idle again');
  await pool.close();
  t.equal(pool.threads, 0, 'no thread left in the pool');
  // Idle threads hold their own event loop's fds (epoll, eventfds) and, after
  // io_uring reads, the kernel's io-wq threads of their task: all gone with them.
  t.equal(await settledThreadCount(threads0), threads0, 'thread count back to baseline');
  t.equal(openFds(), fds0, 'fd count back to baseline');
  await t.rejects(open(ns, 'tpw2', pool), { code: 'ERR_TUN_CLOSED' }, 'a closed pool is refused');
  t.equal(openFds(), fds0, 'and nothing was created');
});

t.test('idle pooled threads hold none of the closed sets\' rings', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'poolrings');
  const pool = new QueueWorkerPool();
  t.teardown(() => pool.close());
  const base = await settledArrayBuffers(0);
  // Three sets in a row on the same two threads: each job's rings (about 17 MiB
  // per queue) must be freed once the set closed, though the threads live on.
  // (In a function of its own: a suspended async frame keeps its dead locals.)
  const cycle = async (name: string): Promise<void> => {
    const set = await open(ns, name, pool);
    t.ok(process.memoryUsage().arrayBuffers - base > 16 << 20, `${name}: its rings are allocated`);
    await set.close();
  };
  for (const name of ['tpw10', 'tpw11', 'tpw12']) await cycle(name);
  t.same(pool.counts, { started: 2, reused: 4 });
  const left = await settledArrayBuffers(base + (1 << 20));
  t.ok(left - base <= 1 << 20, `array buffers back to the baseline with both threads idle (${((left - base) / 1048576).toFixed(1)} MiB above)`);
});

t.test('idle threads exit after idleTimeout; beyond maxIdle they exit at once', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'poolidle');
  const threads0 = threadCount();
  const pool = new QueueWorkerPool({ idleTimeout: 3000, maxIdle: 1 });
  t.teardown(() => pool.close());
  const set = await open(ns, 'tpw3', pool);
  await set.close();
  t.equal(pool.idleThreads, 1, 'one thread kept (maxIdle 1)');
  await until(() => pool.threads === 1, 2000);
  t.equal(pool.threads, 1, 'the other exited');
  await until(() => pool.threads === 0, 8000);
  t.equal(pool.threads, 0, 'the idle one exited after its timeout');
  t.equal(await settledThreadCount(threads0), threads0, 'thread count back to baseline without close()');
});

t.test('threads with other execArgv are not reused', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'poolargv');
  const pool = new QueueWorkerPool();
  t.teardown(() => pool.close());
  await (await open(ns, 'tpw4', pool)).close();
  const other = await open(ns, 'tpw5', pool, { execArgv: ['--no-warnings'] });
  t.same(pool.counts, { started: 4, reused: 0 }, 'new threads for the other execArgv');
  t.equal(pool.idleThreads, 2, 'the first two wait for a set like theirs');
  await other.close();
  t.equal(pool.idleThreads, 4);
});

t.test('a reused thread is unpinned when its new queue asks for no affinity', async (t) => {
  if (!requireNetAdmin(t)) return;
  const cpus = currentThreadCpus();
  if (cpus.length < 2) {
    t.pass('needs 2 CPUs to tell pinned from unpinned: nothing to check on this machine');
    return;
  }
  const ns = createNetns(t, 'poolpin');
  const allowedOf = (tid: number): string => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'))![1]!;
  const pool = new QueueWorkerPool();
  t.teardown(() => pool.close());
  const pinned = await open(ns, 'tpw6', pool, { queues: 1, affinity: () => cpus[0]! });
  const tid = pinned.workers()[0]!.tid;
  t.equal(allowedOf(tid), String(cpus[0]), 'pinned by the first set');
  await pinned.close();
  const free = await open(ns, 'tpw7', pool, { queues: 1 });
  t.equal(free.workers()[0]!.tid, tid, 'same thread');
  t.equal(free.workers()[0]!.affinity, null, 'reports no affinity');
  t.same(allowedOf(tid), /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))![1], 'the kernel agrees: every CPU the process may use');
  await free.close();
});

t.test('a handler module is imported once per thread; init() runs for each set', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'poolhandler');
  const pool = new QueueWorkerPool();
  t.teardown(() => pool.close());
  const messageOf = async (data: string): Promise<string> => {
    const errors: string[] = [];
    const set = await open(ns, 'tpw8', pool, { queues: 1, handler: handlerPath('init-count'), handlerData: data, onHandlerError: (e) => void errors.push(e.error.message) });
    try {
      await ns.ip('link', 'set', 'tpw8', 'up');
      // 100 datagrams over ~2 s from inside the namespace (the test peer).
      const sender = ns.spawn(t, 'node', [peerPath('udp-sender'), '198.18.0.2', '9000', '100', '1', '64', '50']);
      await until(() => errors.length > 0, 5000);
      await sender.stop();
      return errors[0] ?? 'no handler error';
    } finally {
      await set.close();
    }
  };
  t.equal(await messageOf('first'), 'inits=1 data=first', 'first set: init ran once');
  t.equal(await messageOf('second'), 'inits=2 data=second', 'second set on the same thread: module state kept, init ran again');
  t.same(pool.counts, { started: 1, reused: 1 });
});

const BAD: Array<[string, unknown]> = [
  ['idleTimeout -1', { idleTimeout: -1 }],
  ['idleTimeout NaN', { idleTimeout: Number.NaN }],
  ['idleTimeout as a string', { idleTimeout: '100' }],
  ['maxIdle 1.5', { maxIdle: 1.5 }],
  ['maxIdle -1', { maxIdle: -1 }],
  ['maxIdle 5000', { maxIdle: 5000 }],
  ['options null', null],
];

t.test('bad pool options: ERR_TUN_INVALID_ARGUMENT', async (t) => {
  for (const [what, options] of BAD) {
    t.throws(() => new QueueWorkerPool(options as never), { code: 'ERR_TUN_INVALID_ARGUMENT' }, what);
  }
});

t.test('openQueues refuses a workerPool that is not a pool, before building anything', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'poolbad');
  const fds0 = openFds();
  const entry = ns.enter();
  try {
    await t.rejects(openQueues({ devices: [new DeviceBuilder().name('tpw9')], workerPool: {} as never }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  } finally {
    entry.exit();
  }
  t.equal(openFds(), fds0, 'no fd left');
  t.notOk(await linkExists(ns, 'tpw9'), 'no device created');
});
