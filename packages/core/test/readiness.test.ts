/**
 * ReadinessWaiter on its own, with an eventfd standing in for a device fd (readable
 * when its counter is non-zero): a wait resolves when the fd becomes readable,
 * several waits share one poll cycle, and close / abort / timeout end waits. No
 * privileges needed.
 */
import t from 'tap';
import fc from 'fast-check';
import { TunError } from '@tunpipe/offload';
import { threadCount } from '@tunpipe/testkit';
import { ReadinessWaiter } from '../src/readiness.js';
import { sys } from '../src/libc.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, POLLIN } from '../src/constants.js';

const one = new BigUint64Array([1n]);
const sink = new BigUint64Array(1);

function eventFd(t: { teardown(fn: () => unknown): void }): number {
  const fd = sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  t.teardown(() => sys.close(fd));
  return fd;
}

const makeReadable = (fd: number): void => void sys.write(fd, one, 8);
const drain = (fd: number): void => void sys.read(fd, sink, 8);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof TunError ? e.code : `non-TunError: ${String(e)}`;
  }
}

t.test('no thread until the first wait; POLLIN when the fd becomes readable; the thread exits on close', async (t) => {
  const fd = eventFd(t);
  const threads = threadCount();
  const w = new ReadinessWaiter(fd);
  t.equal(w.threadRunning, false);
  t.equal(threadCount(), threads, 'no thread yet');
  const waiting = w.wait();
  t.equal(w.threadRunning, true);
  await sleep(30);
  let t0 = performance.now();
  makeReadable(fd);
  const revents = await waiting;
  const ms = performance.now() - t0;
  t.equal(revents & POLLIN, POLLIN, 'POLLIN');
  // The first wait includes the thread's start (loading koffi and core in a fresh
  // worker: ~0.1-0.3 s); later waits only the wake-up.
  t.ok(ms < 2000, `first wait resolved ${ms.toFixed(2)} ms after the fd became readable`);
  t.comment(`cold: fd readable -> wait resolved: ${ms.toFixed(2)} ms (includes the thread's start)`);
  drain(fd);
  const second = w.wait();
  await sleep(20);
  t0 = performance.now();
  makeReadable(fd);
  await second;
  const warm = performance.now() - t0;
  t.ok(warm < 100, `warm: woke ${warm.toFixed(2)} ms after the fd became readable`);
  t.comment(`warm: fd readable -> wait resolved: ${warm.toFixed(2)} ms`);
  drain(fd);
  await w[Symbol.asyncDispose]();
  t.equal(w.threadRunning, false);
  t.equal(w.closed, true);
  t.equal(await codeOf(w.wait()), 'ERR_TUN_CLOSED', 'wait after close');
});

t.test('concurrent waits share a cycle; close rejects every pending wait', async (t) => {
  const fd = eventFd(t);
  const w = new ReadinessWaiter(fd);
  const a = w.wait();
  const b = w.wait();
  makeReadable(fd);
  const [ra, rb] = await Promise.all([a, b]);
  t.equal(ra & POLLIN, POLLIN);
  t.equal(rb & POLLIN, POLLIN);
  drain(fd);
  const pending = [w.wait(), w.wait(), w.wait({ timeout: 10_000 })];
  await sleep(20);
  w.close();
  t.same(await Promise.all(pending.map(codeOf)), ['ERR_TUN_CLOSED', 'ERR_TUN_CLOSED', 'ERR_TUN_CLOSED']);
  await w.stopped;
});

t.test('abort and timeout end one wait and leave the others waiting', async (t) => {
  const fd = eventFd(t);
  const w = new ReadinessWaiter(fd);
  t.teardown(() => w[Symbol.asyncDispose]());
  const ac = new AbortController();
  const aborted = w.wait({ signal: ac.signal });
  const timed = w.wait({ timeout: 30 });
  const patient = w.wait();
  await sleep(10);
  ac.abort('stop');
  t.equal(await codeOf(aborted), 'ERR_TUN_ABORTED');
  t.equal(await codeOf(timed), 'ERR_TUN_TIMEOUT');
  makeReadable(fd);
  t.equal((await patient) & POLLIN, POLLIN, 'the remaining wait still sees the fd become readable');
  drain(fd);
});

t.test('property: any interleaving of waits, aborts, timeouts and readiness settles every wait correctly', async (t) => {
  const fd = eventFd(t);
  const w = new ReadinessWaiter(fd);
  t.teardown(() => w[Symbol.asyncDispose]());
  type Step = { kind: 'abort' } | { kind: 'timeout'; ms: number } | { kind: 'ready' };
  const step = fc.oneof(
    fc.constant<Step>({ kind: 'abort' }),
    fc.integer({ min: 0, max: 5 }).map((ms): Step => ({ kind: 'timeout', ms })),
    fc.constant<Step>({ kind: 'ready' }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
      const outcomes: Array<Promise<string>> = [];
      for (const s of steps) {
        if (s.kind === 'abort') {
          const ac = new AbortController();
          outcomes.push(codeOf(w.wait({ signal: ac.signal })).then((c) => (c === 'ERR_TUN_ABORTED' || c === 'resolved' ? 'ok' : c)));
          ac.abort();
        } else if (s.kind === 'timeout') {
          outcomes.push(codeOf(w.wait({ timeout: s.ms })).then((c) => (c === 'ERR_TUN_TIMEOUT' || c === 'resolved' ? 'ok' : c)));
        } else {
          const p = w.wait();
          makeReadable(fd);
          outcomes.push(codeOf(p).then((c) => (c === 'resolved' ? 'ok' : c)));
        }
      }
      const settled = await Promise.all(outcomes);
      drain(fd);
      return settled.every((c) => c === 'ok');
    }),
    { numRuns: 60 },
  );
  t.pass('every wait settled as expected');
});
