/**
 * A waiting `recv` never blocks the event loop and always ends: `close()` and an
 * aborted signal wake it within 100 ms (on the main thread and in a worker), a
 * timeout rejects it, and an interface that disappears under it (deleted, or its
 * namespace deleted) rejects it with ERR_TUN_DEVICE_GONE. The poll thread comes
 * and goes with the device: thread and fd counts return to their baseline, an idle
 * device never keeps the process alive, a pending recv does.
 */
import t, { type Test } from 'tap';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { TunError } from '@tunpipe/offload';
import { createNetns, openFds, requireNetAdmin, threadCount, type Netns } from '@tunpipe/testkit';
import { DeviceBuilder } from '../src/builder.js';
import type { Device } from '../src/device.js';
import type { RecvWorkerData, RecvWorkerReport } from './support/recv-worker.js';

/** The bound the issue sets; the measured values are printed as comments. */
const WAKE_BOUND_MS = 100;

/** A TUN device that is down, so that the kernel sends it nothing and recv really waits. */
function silentDevice(t: Test, ns: Netns, name: string, persist = false): Device {
  let dev: Device;
  {
    using _ = ns.enter();
    dev = new DeviceBuilder().name(name).enable(false).persist(persist).build();
  }
  // Await the poll thread's exit too, so that the next test's thread baseline is exact.
  t.teardown(() => dev[Symbol.asyncDispose]());
  return dev;
}

/** Resolves with the rejection of `p` and the ms from `start()` to it. */
async function rejection(p: Promise<unknown>, start: () => number): Promise<{ error: TunError; ms: number }> {
  try {
    await p;
  } catch (e) {
    return { error: e as TunError, ms: performance.now() - start() };
  }
  throw new Error('recv resolved instead of rejecting');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the device's poll thread and gives it time to load (a worker loading
 * koffi takes ~70 ms, ~250 ms under tap's module hooks), so that what follows
 * measures the wake-up rather than the thread's start.
 */
async function warmUp(dev: Device): Promise<void> {
  await rejection(dev.recv(new Uint8Array(64), { timeout: 400 }), () => 0);
}

/**
 * The thread count to compare against, taken once libuv's threadpool exists: it
 * starts (4 threads, for good) on the process's first asynchronous fs call, e.g.
 * when a worker loads its module.
 */
async function baselineThreads(): Promise<number> {
  await readFile('/proc/self/status');
  return threadCount();
}

t.test('close() wakes a waiting recv within 100 ms (main thread); the event loop runs meanwhile', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'wakeclose');
  // Persistent: close() then only closes the fd, so the time measured is the wake-up
  // itself (the next test shows what tearing an interface down adds to close()).
  const dev = silentDevice(t, ns, 'tpwake0', true);
  let t0 = 0;
  const waiting = dev.recv(new Uint8Array(2048));
  const ticks: number[] = [];
  const ticker = setInterval(() => ticks.push(performance.now()), 10);
  await sleep(200);
  clearInterval(ticker);
  const gaps = ticks.slice(1).map((v, i) => v - ticks[i]!);
  t.ok(ticks.length >= 5, `timers ran while recv waited (${ticks.length} ticks of 10 ms in 200 ms)`);
  t.ok(Math.max(...gaps) < 150, `no long stall (longest gap ${Math.max(...gaps).toFixed(1)} ms)`);
  const done = rejection(waiting, () => t0);
  t0 = performance.now();
  dev.close();
  const { error, ms } = await done;
  t.equal(error.code, 'ERR_TUN_CLOSED');
  t.ok(ms < WAKE_BOUND_MS, `woke ${ms.toFixed(2)} ms after close()`);
  t.comment(`close -> recv rejected: ${ms.toFixed(2)} ms`);
});

t.test('close() of the last fd of a non-persistent device: the interface goes, the recv wakes as close() returns', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'wakeclose2');
  const dev = silentDevice(t, ns, 'tpwake3');
  let t0 = 0;
  const done = rejection(dev.recv(new Uint8Array(2048)), () => t0);
  await sleep(50);
  t0 = performance.now();
  dev.close();
  // close() itself takes the kernel's time to unregister the interface (RCU grace
  // periods: ~15 ms idle, more under load); the rejection follows at once.
  const closeMs = performance.now() - t0;
  const { error, ms } = await done;
  t.equal(error.code, 'ERR_TUN_CLOSED');
  t.ok(ms - closeMs < 50, `${(ms - closeMs).toFixed(2)} ms after close() returned`);
  t.ok(ms < 1000, `${ms.toFixed(2)} ms after close() was called`);
  t.comment(`close (interface torn down) -> recv rejected: ${ms.toFixed(2)} ms, of which close() itself ${closeMs.toFixed(2)} ms`);
  const names = ((await ns.ipJson('link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname);
  t.notOk(names.includes('tpwake3'), 'the interface is gone when close() returns');
});

t.test('an aborted signal wakes a waiting recv within 100 ms, as an AbortError with the reason as cause', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'wakeabort');
  const dev = silentDevice(t, ns, 'tpwake1');
  const stop = new AbortController();
  let t0 = 0;
  const done = rejection(dev.recv(new Uint8Array(2048), { signal: stop.signal }), () => t0);
  await sleep(100);
  const reason = new Error('enough');
  t0 = performance.now();
  stop.abort(reason);
  const { error, ms } = await done;
  t.equal(error.code, 'ERR_TUN_ABORTED');
  t.equal(error.name, 'AbortError');
  t.equal(error.cause, reason, 'cause is the signal reason');
  t.ok(ms < WAKE_BOUND_MS, `woke ${ms.toFixed(2)} ms after abort()`);
  t.comment(`abort -> recv rejected: ${ms.toFixed(2)} ms`);

  // The device is still usable after an aborted wait, and an already-aborted signal rejects at once.
  const again = await rejection(dev.recv(new Uint8Array(64), { signal: AbortSignal.abort('pre') }), () => 0);
  t.equal(again.error.code, 'ERR_TUN_ABORTED');
  t.equal(again.error.cause, 'pre');
  const timed = await rejection(dev.recv(new Uint8Array(64), { timeout: 10 }), () => 0);
  t.equal(timed.error.code, 'ERR_TUN_TIMEOUT', 'waits again after an abort');
});

t.test('timeout rejects with ERR_TUN_TIMEOUT, not before it', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'timeout');
  const dev = silentDevice(t, ns, 'tpwake2');
  const t0 = performance.now();
  const { error, ms } = await rejection(dev.recv(new Uint8Array(64), { timeout: 80 }), () => t0);
  t.equal(error.code, 'ERR_TUN_TIMEOUT');
  t.ok(ms >= 79, `not early (${ms.toFixed(1)} ms)`);
  t.ok(ms < 80 + WAKE_BOUND_MS, `not late (${ms.toFixed(1)} ms)`);
  const zero = await rejection(dev.recv(new Uint8Array(64), { timeout: 0 }), () => 0);
  t.equal(zero.error.code, 'ERR_TUN_TIMEOUT', 'timeout 0: poll once');
  const bad = await rejection(dev.recv(new Uint8Array(64), { timeout: -1 }), () => 0);
  t.equal(bad.error.code, 'ERR_TUN_INVALID_ARGUMENT');
});

for (const wake of ['close', 'abort'] as const) {
  t.test(`${wake} wakes a recv waiting inside a worker thread within 100 ms`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `worker${wake}`);
    const threads = await baselineThreads();
    let worker: Worker;
    {
      // The worker's thread is created now, so it starts inside the namespace.
      using _ = ns.enter();
      const data: RecvWorkerData = { name: 'tpwork0', wake };
      worker = new Worker(fileURLToPath(new URL('./support/recv-worker.js', import.meta.url)), { workerData: data });
    }
    t.teardown(() => worker.terminate());
    const messages: unknown[] = [];
    const next = (): Promise<unknown> => new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    messages.push(await next());
    t.equal(messages[0], 'waiting');
    const report = next();
    worker.postMessage('wake');
    const r = (await report) as RecvWorkerReport;
    t.equal(r.code, wake === 'close' ? 'ERR_TUN_CLOSED' : 'ERR_TUN_ABORTED');
    if (wake === 'abort') t.equal(r.name, 'AbortError');
    t.ok(r.ms < WAKE_BOUND_MS, `woke ${r.ms.toFixed(2)} ms after ${wake}()`);
    t.comment(`${wake} in a worker -> recv rejected: ${r.ms.toFixed(2)} ms (the ${wake}() call itself ${r.callMs.toFixed(2)} ms)`);
    t.ok(r.threadsStopped);
    await worker.terminate();
    // Worker and poll threads both gone.
    for (let i = 0; i < 50 && threadCount() > threads; i++) await sleep(20);
    t.equal(threadCount(), threads, 'thread count back to baseline');
  });
}

t.test('an interface deleted under a waiting recv rejects it with ERR_TUN_DEVICE_GONE', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'linkdel');
  const dev = silentDevice(t, ns, 'tpgone0');
  await warmUp(dev);
  let t0 = 0;
  const done = rejection(dev.recv(new Uint8Array(2048), { timeout: 10_000 }), () => t0);
  await sleep(50);
  t0 = performance.now();
  const ip = ns.ip('link', 'del', 'tpgone0').then(() => performance.now() - t0);
  const { error, ms } = await done;
  t.comment(`ip link del ran ${(await ip).toFixed(2)} ms`);
  t.equal(error.code, 'ERR_TUN_DEVICE_GONE');
  t.ok(ms < 1000, `rejected ${ms.toFixed(2)} ms after starting ip link del (ip itself included)`);
  t.equal((() => {
    try {
      dev.tryRecv(new Uint8Array(64));
      return 'no error';
    } catch (e) {
      return (e as TunError).code;
    }
  })(), 'ERR_TUN_DEVICE_GONE', 'tryRecv says the same');
  t.comment(`start of ip link del -> recv rejected: ${ms.toFixed(2)} ms`);
});

t.test('deleting the namespace the interface lives in rejects a waiting recv with ERR_TUN_DEVICE_GONE', async (t) => {
  if (!requireNetAdmin(t)) return;
  // The fd (opened in `home`) keeps `home` alive; the interface is moved by an
  // outside tool into `doomed`, which nothing of ours holds, and `doomed` is deleted.
  const home = createNetns(t, 'nshome');
  const doomed = createNetns(t, 'nsdoomed');
  const dev = silentDevice(t, home, 'tpnsdel0');
  await home.ip('link', 'set', 'tpnsdel0', 'netns', doomed.name);
  await warmUp(dev);
  let t0 = 0;
  const done = rejection(dev.recv(new Uint8Array(2048), { timeout: 10_000 }), () => t0);
  await sleep(50);
  t0 = performance.now();
  await doomed.delete();
  t.comment(`ip netns del ran ${(performance.now() - t0).toFixed(2)} ms`);
  const { error, ms } = await done;
  t.equal(error.code, 'ERR_TUN_DEVICE_GONE');
  t.match(error.message, /gone/);
  // The kernel dismantles a namespace asynchronously (cleanup_net on a workqueue).
  t.ok(ms < 3000, `rejected ${ms.toFixed(2)} ms after starting ip netns del`);
  t.comment(`start of ip netns del -> recv rejected: ${ms.toFixed(2)} ms`);
});

t.test('a Device holds the namespace it was moved into: deleting its name does not kill the interface', async (t) => {
  if (!requireNetAdmin(t)) return;
  const home = createNetns(t, 'pinhome');
  const target = createNetns(t, 'pintarget');
  const dev = silentDevice(t, home, 'tppin0');
  dev.moveToNetns(target.name);
  await target.delete();
  const { error } = await rejection(dev.recv(new Uint8Array(64), { timeout: 100 }), () => 0);
  t.equal(error.code, 'ERR_TUN_TIMEOUT', 'still waiting for packets, not gone');
  t.equal(dev.name(), 'tppin0', 'still configurable through its netlink socket');
});

t.test('concurrent recvs on one device share the poll thread and each get a packet', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'concurrent');
  let dev: Device;
  {
    using _ = ns.enter();
    dev = new DeviceBuilder().name('tpconc0').ipv4('198.18.0.1', 24).build();
  }
  t.teardown(() => dev[Symbol.asyncDispose]());
  const a = new Uint8Array(2048);
  const b = new Uint8Array(2048);
  const ra = dev.recv(a, { timeout: 5000 });
  const rb = dev.recv(b, { timeout: 5000 });
  await sleep(20);
  const script = "const s=require('node:dgram').createSocket('udp4');let k=0;const go=()=>s.send('x'+k,9,'198.18.0.2',()=>{if(++k<2)go();else s.close()});go()";
  await ns.exec(process.execPath, ['-e', script]);
  const [na, nb] = await Promise.all([ra, rb]);
  t.ok(na > 0 && nb > 0, `both resolved (${na}, ${nb} bytes)`);
});

t.test('no fd or thread leaks: the poll thread starts on the first wait and exits with the device', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'leaks');
  const threads = await baselineThreads();
  const fds = openFds();
  for (let round = 0; round < 3; round++) {
    const dev = silentDevice(t, ns, `tpleak${round}`);
    t.equal(threadCount(), threads, `round ${round}: no thread before the first wait`);
    await rejection(dev.recv(new Uint8Array(64), { timeout: 20 }), () => 0);
    t.equal(threadCount(), threads + 1, `round ${round}: one poll thread while open`);
    await dev[Symbol.asyncDispose]();
    t.equal(threadCount(), threads, `round ${round}: thread gone after close`);
    t.equal(openFds(), fds, `round ${round}: fds back to baseline (tun fd, netlink socket, eventfd)`);
  }
});

t.test('process lifetime: an idle open device never keeps node alive; a pending recv does', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'lifetime');
  const program = fileURLToPath(new URL('./support/lingering-device.js', import.meta.url));
  const t0 = performance.now();
  const idle = await ns.exec(process.execPath, [program, 'idle'], { timeoutMs: 8000 });
  const idleMs = performance.now() - t0;
  t.equal(idle.code, 0, 'exited by itself', { stderr: idle.stderr });
  t.match(idle.stdout, /first wait: ERR_TUN_TIMEOUT\nidle device left open/);
  t.ok(idleMs < 5000, `in ${idleMs.toFixed(0)} ms`);
  const pending = await ns.exec(process.execPath, [program, 'pending'], { timeoutMs: 8000 });
  t.equal(pending.code, 0, { stderr: pending.stderr });
  t.equal(pending.stdout.trim(), 'pending recv: ERR_TUN_CLOSED', 'stayed alive until the close 300 ms later');
});
