/**
 * piscinaStage: order under uneven task durations, bounded in-flight work
 * (backpressure to the source), prompt results, prompt abort, failures, and the
 * pool's threads gone at the end (counted in /proc/self/status). And the packet
 * flavour: private copies to the workers, the three kinds of result.
 */
import t from 'tap';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { threadCount } from '@tunpipe/testkit';
import { packetOf, type Packet } from '../src/packet.js';
import { piscinaPacketStage } from '../src/piscina-packet-stage.js';
import { piscinaStage, type PiscinaStage } from '../src/piscina-stage.js';
import { pipeline } from '../src/pipeline.js';
import { readAll, readableFrom, recordingWritable } from './web-stream-io.js';

const WORKER = new URL('./fixtures/sleepy-worker.js', import.meta.url);

// Start libuv's threadpool now (its 4 threads appear on the first async fs call,
// made by tap or piscina at some point), so that thread counts compare only the
// pool's worker threads.
await stat(fileURLToPath(WORKER));

type Task = { value: number | 'fail'; ms: number };
type Result = { value: number; threadId: number };

function newGauge(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(12));
}

/** Waits until this process has `threads` threads again (worker teardown is asynchronous). */
async function threadsBackTo(threads: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (threadCount() > threads && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return threadCount();
}

/** A deterministic pseudo-random sequence for task durations. */
function durations(n: number, maxMs: number): number[] {
  let x = 12345;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % (maxMs + 1);
  });
}

t.test('order is preserved however long each task takes; in flight never above concurrency + maxQueue', async (t) => {
  const baseline = threadCount();
  const gauge = newGauge();
  const stage: PiscinaStage<Task, Result> = piscinaStage(WORKER, { concurrency: 2, maxQueue: 3, workerData: { gauge } });
  t.equal(stage.pool.threads.length, 2, 'two worker threads');
  const ms = durations(120, 6);
  const out: Result[] = [];
  await pipeline(readableFrom(ms.map((m, i) => ({ value: i, ms: m }))), stage, recordingWritable(out));
  t.same(out.map((r) => r.value), ms.map((_, i) => i * 2), 'results in input order');
  t.equal(new Set(out.map((r) => r.threadId)).size, 2, 'both workers did work');
  t.same(Atomics.load(gauge, 1), 2, 'two tasks ran at once, never more');
  const s = stage.stats();
  t.same({ submitted: s.submitted, completed: s.completed, inFlight: s.inFlight }, { submitted: 120, completed: 120, inFlight: 0 });
  t.ok(s.maxInFlight <= 5 && s.maxInFlight >= 3, `at most 5 in flight (saw ${s.maxInFlight})`);
  t.equal(stage.pool.threads.length, 0, 'pool destroyed when the input ended');
  t.equal(await threadsBackTo(baseline), baseline, 'thread count back to where it was');
});

t.test('backpressure: a stuck sink stops the stage, and the stage stops pulling the source', async (t) => {
  const baseline = threadCount();
  let pulled = 0;
  const source = new ReadableStream<Task>(
    {
      pull(controller) {
        controller.enqueue({ value: pulled++, ms: 0 });
      },
    },
    { highWaterMark: 0 },
  );
  const stuck = new WritableStream<Result>({ write: () => new Promise<void>(() => undefined) });
  const stage: PiscinaStage<Task, Result> = piscinaStage(WORKER, { concurrency: 2, maxQueue: 2 });
  const ac = new AbortController();
  const running = pipeline(source, stage, stuck, { signal: ac.signal });
  // Wait until results flow (workers may take a while to start on a loaded
  // machine) and the pipeline has settled into its stalled state...
  for (let waited = 0; stage.stats().completed < 3 && waited < 10_000; waited += 20) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  const settled = pulled;
  // ...then check that nothing more is pulled while the sink stays stuck.
  await new Promise((r) => setTimeout(r, 300));
  const s = stage.stats();
  t.ok(s.completed >= 3, `results came out (${s.completed})`);
  t.ok(s.maxInFlight <= 4, `in flight bounded by concurrency + maxQueue (max ${s.maxInFlight})`);
  t.equal(pulled, settled, 'the source is not pulled any more');
  // 4 in the window + 1 held by the window's input side + the stage's output queue
  // + 1 being written by the stuck sink + the source's and pipes' single slots.
  t.ok(pulled <= 12, `the source was pulled only ${pulled} times`);
  ac.abort();
  await t.rejects(running, { code: 'ERR_TUN_ABORTED' });
  t.equal(await threadsBackTo(baseline), baseline, 'threads gone after the abort');
});

t.test('a result leaves as soon as it is ready, without waiting for more input', async (t) => {
  const stage: PiscinaStage<Task, Result> = piscinaStage(WORKER, { concurrency: 1 });
  const writer = stage.writable.getWriter();
  const reader = stage.readable.getReader();
  // (A TransformStream calls transform only while its output is being read.)
  const reading = reader.read();
  await writer.write({ value: 21, ms: 5 });
  const first = await reading;
  t.same(first.value?.value, 42, 'emitted while the input is still open');
  await writer.close();
  t.equal((await reader.read()).done, true);
});

for (const delayMs of [0, 20, 150]) {
  // 0 and 20 ms: the workers are still starting when the abort comes (piscina
  // then replaces aborted workers; the stage must not leak the replacements).
  t.test(`abort ${delayMs} ms in ends long tasks promptly and destroys the pool`, async (t) => {
    const baseline = threadCount();
    const stage: PiscinaStage<Task, Result> = piscinaStage(WORKER, { concurrency: 2, maxQueue: 2 });
    const ac = new AbortController();
    const tasks = Array.from({ length: 10 }, (_, i) => ({ value: i, ms: 10_000 }));
    const running = pipeline(readableFrom(tasks), stage, recordingWritable<Result>([]), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, delayMs));
    const start = performance.now();
    ac.abort(new Error('user stop'));
    const err = await running.then(() => undefined, (e: unknown) => e);
    const took = performance.now() - start;
    t.match(err, { code: 'ERR_TUN_ABORTED', name: 'AbortError', cause: { message: 'user stop' } });
    t.ok(took < 1000, `pipeline settled ${took.toFixed(0)} ms after the abort (tasks were 10 s)`);
    t.equal(await threadsBackTo(baseline), baseline, 'the abort alone tore the pool down (threads gone)');
    t.equal(stage.pool.threads.length, 0);
  });
}

t.test("the stage's own signal aborts it", async (t) => {
  const ac = new AbortController();
  const stage: PiscinaStage<Task, Result> = piscinaStage(WORKER, { concurrency: 1, signal: ac.signal });
  const writer = stage.writable.getWriter();
  void writer.write({ value: 1, ms: 10_000 }).catch(() => undefined);
  setTimeout(() => ac.abort(), 50);
  await t.rejects(readAll(stage.readable), { code: 'ERR_TUN_ABORTED' });
  await stage.close();
  t.equal(stage.pool.threads.length, 0);
});

t.test('a failing task errors the stream with ERR_TUN_WORKER_TASK and the pool is destroyed', async (t) => {
  const baseline = threadCount();
  const stage: PiscinaStage<Task, Result> = piscinaStage(WORKER, { concurrency: 2 });
  const out: Result[] = [];
  const tasks: Task[] = [{ value: 1, ms: 0 }, { value: 2, ms: 0 }, { value: 'fail', ms: 0 }, { value: 4, ms: 0 }];
  await t.rejects(pipeline(readableFrom(tasks), stage, recordingWritable(out)), {
    code: 'ERR_TUN_WORKER_TASK',
    cause: { message: 'bad input' },
  });
  // Results still queued when the stream errors are discarded (Streams semantics);
  // whatever was delivered is an in-order prefix, and nothing after the failure.
  t.same(out.map((r) => r.value), [2, 4].slice(0, out.length), 'an in-order prefix of the results before the failure');
  t.equal(await threadsBackTo(baseline), baseline, 'threads gone');
});

t.test('cancelling the readable destroys the pool', async (t) => {
  const baseline = threadCount();
  const stage: PiscinaStage<Task, Result> = piscinaStage(WORKER, { concurrency: 2 });
  await stage.readable.cancel('not interested');
  t.equal(await threadsBackTo(baseline), baseline);
});

t.test('options are checked', async (t) => {
  t.throws(() => piscinaStage(WORKER, { concurrency: 0 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => piscinaStage(WORKER, { concurrency: 1, maxQueue: -1 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});

t.test('packet stage: workers get private copies, never the shared ring memory', async (t) => {
  const ring = new Uint8Array(new SharedArrayBuffer(4096));
  const packets: Packet[] = [];
  for (let i = 0; i < 8; i++) {
    const view = ring.subarray(i * 100, i * 100 + 10);
    view.set([i, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    packets.push(packetOf(view, { queue: i % 2, timestamp: BigInt(i), meta: { ms: (8 - i) * 2 } }));
  }
  const stage = piscinaPacketStage(WORKER, { concurrency: 2, name: 'reverse' });
  const out: Packet[] = [];
  // Overwrite each ring slot right after it was handed over, as a ring does when it is reused.
  const handedOver = new TransformStream<Packet, Packet>({
    transform(p, controller) {
      controller.enqueue(p);
    },
  });
  const reuse = new WritableStream<Packet>({
    write: async (p) => {
      const w = stage.writable.getWriter();
      await w.write(p);
      w.releaseLock();
      p.data.fill(0xee);
    },
    close: () => stage.writable.close(),
  });
  const collecting = readAll(stage.readable).then((r) => out.push(...r));
  await readableFrom(packets).pipeThrough(handedOver).pipeTo(reuse);
  await collecting;
  t.equal(out.length, 8);
  t.same(out.map((p) => p.data[9]), [0, 1, 2, 3, 4, 5, 6, 7], 'in order, bytes as they were when submitted');
  t.same(out.map((p) => [...p.data.subarray(0, 9)]), out.map(() => [9, 8, 7, 6, 5, 4, 3, 2, 1]));
  t.ok(out.every((p) => (p.meta as { shared: boolean }).shared === false), 'workers never saw a SharedArrayBuffer');
  t.same(out.map((p) => [p.queue, p.timestamp]), packets.map((_, i) => [i % 2, BigInt(i)]));
});

t.test('packet stage: bytes-only results keep queue, timestamp and meta; null drops', async (t) => {
  const stage = piscinaPacketStage(WORKER, { concurrency: 1, name: 'rewrite' });
  const hdr = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
  const input = [
    packetOf(new Uint8Array([1, 2]), { queue: 3, timestamp: 7n, meta: 'a', virtioHeader: hdr }),
    packetOf(new Uint8Array([0, 9]), { queue: 1 }),
    packetOf(new Uint8Array([0xf0]), { queue: 2, meta: 'c' }),
  ];
  const out: Packet[] = [];
  await pipeline(readableFrom(input), stage, recordingWritable(out));
  t.same(
    out.map((p) => ({ data: [...p.data], queue: p.queue, ts: p.timestamp, meta: p.meta, hdr: p.virtioHeader })),
    [
      { data: [0xfe, 0xfd], queue: 3, ts: 7n, meta: 'a', hdr: undefined },
      { data: [0x0f], queue: 2, ts: undefined, meta: 'c', hdr: undefined },
    ],
  );
});
