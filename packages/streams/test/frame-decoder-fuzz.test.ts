/**
 * Fuzzing the frame decoder with random and mutated byte streams, cut into random
 * chunks, in both error modes: it only ever fails with its documented TunErrors,
 * never buffers more than maxFrameSize + 4 bytes, and always finishes.
 */
import t from 'tap';
import fc from 'fast-check';
import { isTunError } from '@tunpipe/offload';
import { encodeFrames } from '../src/frame-encoder.js';
import { packetOf } from '../src/packet.js';
import { decodeChunks } from './frame-driver.js';
import { concatBytes, readAll, readableFrom, splitAt } from './web-stream-io.js';

const MAX = 2048;
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

/** Encoded streams of a few valid packets: the seeds mutations start from. */
const arbValidStream = fc
  .array(
    fc.record({
      data: fc.uint8Array({ maxLength: 600 }),
      queue: fc.nat({ max: 8 }),
      ts: fc.option(fc.bigInt({ min: 0n, max: 1n << 62n }), { nil: undefined }),
      // the encoder refuses "__proto__" keys (frame-meta.ts); this test is about decoding
      meta: fc.option(fc.jsonValue({ maxDepth: 2 }).filter((m) => !(JSON.stringify(m) ?? '').includes('"__proto__":')), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((rows) => rows.map((r) => packetOf(r.data, { queue: r.queue, timestamp: r.ts, meta: r.meta })));

type Mutation = (b: Uint8Array) => Uint8Array;
const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ at: fc.nat(), bit: fc.nat({ max: 7 }) }).map(({ at, bit }) => (b: Uint8Array) => {
    const c = b.slice();
    if (c.length > 0) c[at % c.length]! ^= 1 << bit;
    return c;
  }),
  fc.record({ at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }).map(({ at, v }) => (b: Uint8Array) => {
    const c = b.slice();
    if (c.length > 0) c[at % c.length] = v;
    return c;
  }),
  fc.record({ at: fc.nat(), ins: fc.uint8Array({ minLength: 1, maxLength: 8 }) }).map(({ at, ins }) => (b: Uint8Array) => {
    const p = b.length === 0 ? 0 : at % b.length;
    return concatBytes([b.subarray(0, p), ins, b.subarray(p)]);
  }),
  fc.record({ at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }).map(({ at, n }) => (b: Uint8Array) => {
    const p = b.length === 0 ? 0 : at % b.length;
    return concatBytes([b.subarray(0, p), b.subarray(p + n)]);
  }),
  fc.nat().map((at) => (b: Uint8Array) => b.subarray(0, b.length === 0 ? 0 : at % b.length)),
);

const FRAME_CODES = ['ERR_TUN_FRAME_TOO_LARGE', 'ERR_TUN_FRAME_TRUNCATED', 'ERR_TUN_FRAME_MALFORMED'] as const;

async function check(bytes: Uint8Array, cuts: number[], onError: 'error' | 'skip'): Promise<boolean> {
  const started = performance.now();
  const run = await decodeChunks(
    splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))),
    { maxFrameSize: MAX, onError },
  );
  const allowed = onError === 'skip' ? ['ERR_TUN_FRAME_TRUNCATED'] : FRAME_CODES;
  if (run.error !== undefined && !(isTunError(run.error) && (allowed as readonly string[]).includes(run.error.code))) {
    throw new Error(`unexpected error in ${onError} mode: ${String(run.error)}`);
  }
  if (run.maxBuffered > MAX + 4) throw new Error(`buffered ${run.maxBuffered} bytes`);
  for (const p of run.packets) {
    if (!(p.data instanceof Uint8Array) || !Number.isInteger(p.queue)) throw new Error('bad packet');
  }
  if (performance.now() - started > 1000) throw new Error('decoder took over a second');
  return true;
}

for (const onError of ['error', 'skip'] as const) {
  t.test(`random bytes, ${onError} mode`, async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) =>
        check(bytes, cuts, onError),
      ),
      { numRuns: RUNS },
    );
    t.pass(`${RUNS} inputs`);
  });

  t.test(`mutated valid streams, ${onError} mode`, async (t) => {
    await fc.assert(
      fc.asyncProperty(
        arbValidStream,
        fc.array(arbMutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (packets, mutations, cuts) => {
          let bytes = concatBytes(await readAll(readableFrom(packets).pipeThrough(encodeFrames({ maxFrameSize: MAX }))));
          for (const m of mutations) bytes = m(bytes);
          return check(bytes, cuts, onError);
        },
      ),
      { numRuns: RUNS },
    );
    t.pass(`${RUNS} inputs`);
  });
}

t.test('random prefixes in front of random bodies: small frames with random msgpack', async (t) => {
  // Frames whose lengths are right but whose bodies are random: every one is
  // either a packet or a counted malformed frame, and the stream stays in sync.
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), async (bodies) => {
      const frames = bodies.map((b) => {
        const f = new Uint8Array(4 + b.length);
        new DataView(f.buffer).setUint32(0, b.length);
        f.set(b, 4);
        return f;
      });
      const run = await decodeChunks([concatBytes(frames)], { maxFrameSize: MAX, onError: 'skip' });
      return run.error === undefined && run.stats.frames + run.stats.skippedMalformed === bodies.length;
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} streams stayed in sync`);
});
