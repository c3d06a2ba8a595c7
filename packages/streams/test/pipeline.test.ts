/**
 * pipeline(): typed composition, iterable sources, backpressure from the sink to
 * the source, error propagation to every part, and abort.
 */
import t from 'tap';
import { pipeline } from '../src/pipeline.js';
import { readableFrom, recordingWritable } from './web-stream-io.js';

const map = <A, B>(fn: (a: A) => B): TransformStream<A, B> =>
  new TransformStream<A, B>({ transform: (a, c) => c.enqueue(fn(a)) });

const keep = <A>(fn: (a: A) => boolean): TransformStream<A, A> =>
  new TransformStream<A, A>({ transform: (a, c) => (fn(a) ? c.enqueue(a) : undefined) });

/** An endless counting source that records pulls and how it ended. */
function countingSource(): { readable: ReadableStream<number>; pulled: () => number; cancelled: () => unknown } {
  let n = 0;
  let reason: unknown = 'not cancelled';
  const readable = new ReadableStream<number>(
    {
      pull: (c) => c.enqueue(n++),
      cancel: (r) => {
        reason = r;
      },
    },
    { highWaterMark: 1 },
  );
  return { readable, pulled: () => n, cancelled: () => reason };
}

t.test('stages compose in order, with types flowing from source to sink', async (t) => {
  const out: string[] = [];
  await pipeline(
    readableFrom([1, 2, 3, 4, 5, 6]),
    map((n: number) => n * 10),
    keep((n: number) => n % 20 === 0),
    map((n: number) => `#${n}`),
    recordingWritable(out),
  );
  t.same(out, ['#20', '#40', '#60']);
});

t.test('source and sink alone; an async generator as the source', async (t) => {
  const direct: number[] = [];
  await pipeline(readableFrom([1, 2]), recordingWritable(direct));
  t.same(direct, [1, 2]);
  async function* gen(): AsyncGenerator<number> {
    for (let i = 0; i < 3; i++) yield i;
  }
  const fromGen: number[] = [];
  await pipeline(gen(), map((n: number) => n + 1), recordingWritable(fromGen));
  t.same(fromGen, [1, 2, 3]);
});

t.test('backpressure: a slow sink holds the source back', async (t) => {
  const src = countingSource();
  let written = 0;
  const slow = new WritableStream<number>(
    {
      write: async () => {
        await new Promise((r) => setTimeout(r, 5));
        written++;
      },
    },
    { highWaterMark: 1 },
  );
  const ac = new AbortController();
  const running = pipeline(src.readable, map((n: number) => n), map((n: number) => n), slow, { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 200));
  const ahead = src.pulled() - written;
  t.ok(written > 5, `the sink made progress (${written} written)`);
  t.ok(ahead <= 8, `the source ran only ${ahead} chunks ahead of the sink`);
  ac.abort();
  await t.rejects(running, { code: 'ERR_TUN_ABORTED' });
});

t.test('an error in a middle stage rejects the pipeline, cancels the source and aborts the sink', async (t) => {
  const src = countingSource();
  let sinkAbort: unknown = 'not aborted';
  const sink = new WritableStream<number>({
    abort: (r) => {
      sinkAbort = r;
    },
  });
  const boom = new Error('stage failed');
  const failing = new TransformStream<number, number>({
    transform: (n, c) => {
      if (n === 5) throw boom;
      c.enqueue(n);
    },
  });
  await t.rejects(pipeline(src.readable, failing, sink), boom);
  t.equal(src.cancelled(), boom, 'source cancelled with the error');
  t.equal(sinkAbort, boom, 'sink aborted with the error');
});

t.test('abort: rejects at once with ERR_TUN_ABORTED, source cancelled, sink aborted', async (t) => {
  const src = countingSource();
  let sinkAbort: unknown;
  const sink = new WritableStream<number>({
    write: () => new Promise((r) => setTimeout(r, 1)),
    abort: (r) => {
      sinkAbort = r;
    },
  });
  const ac = new AbortController();
  const running = pipeline(src.readable, map((n: number) => n), sink, { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 30));
  const reason = new Error('enough');
  const start = performance.now();
  ac.abort(reason);
  const err = await running.then(() => undefined, (e: unknown) => e);
  t.ok(performance.now() - start < 100, 'settled promptly');
  t.match(err, { code: 'ERR_TUN_ABORTED', name: 'AbortError', cause: reason });
  await new Promise((r) => setTimeout(r, 20));
  // The cancel reaches the source through the stages; Node 20.20's TransformStream
  // may replace the reason on the way (a TypeError from its cleared transform
  // algorithm), so only the cancel itself is checked here.
  t.not(src.cancelled(), 'not cancelled', 'source cancelled');
  t.equal(sinkAbort, reason, 'sink aborted with the reason');
});

t.test('abort while the sink is stuck in a write still settles at once', async (t) => {
  const src = countingSource();
  const stuck = new WritableStream<number>({ write: () => new Promise<void>(() => undefined) });
  const ac = new AbortController();
  const running = pipeline(src.readable, stuck, { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  await t.rejects(running, { code: 'ERR_TUN_ABORTED' });
});

t.test('an already aborted signal rejects without reading', async (t) => {
  const src = countingSource();
  const ac = new AbortController();
  ac.abort();
  await t.rejects(pipeline(src.readable, recordingWritable<number>([]), { signal: ac.signal }), { code: 'ERR_TUN_ABORTED' });
  t.ok(src.pulled() <= 1, 'nothing beyond the initial fill was pulled');
});

t.test('the last argument must be a sink', async (t) => {
  await t.rejects(pipeline(readableFrom([1]), map((n: number) => n) as never), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});
