/**
 * SlotRing: layout (cache lines, slot geometry), counters across wrap-around, the
 * waiting flags, a model-based property test, and a real two-thread SPSC run.
 */
import t from 'tap';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import {
  SlotRing, HEAD, TAIL, CONSUMER_WAITING, PRODUCER_WAITING, STATE, CONTROL_BYTES, CACHE_LINE,
  RingState, RingFailure, slotStride, slotRingByteLength, nextPowerOfTwo,
} from '../src/slot-ring.js';
import { waitAsync } from '../src/wait-async.js';

t.test('every control word sits on its own cache line', async (t) => {
  const bytes = [HEAD, TAIL, CONSUMER_WAITING, PRODUCER_WAITING, STATE].map((w) => w * 4);
  t.same(bytes, [0, 64, 128, 192, 256]);
  t.equal(CONTROL_BYTES, 5 * CACHE_LINE);
});

t.test('geometry', async (t) => {
  const rows: Array<{ slots: number; cap: number; n: number; stride: number }> = [
    { slots: 1, cap: 64, n: 2, stride: 128 },
    { slots: 3, cap: 1500, n: 4, stride: 1536 },
    { slots: 1024, cap: 1500, n: 1024, stride: 1536 },
    { slots: 256, cap: 65536, n: 256, stride: 65600 },
  ];
  for (const r of rows) {
    t.test(`${r.slots} x ${r.cap}`, async (t) => {
      const ring = SlotRing.create(r.slots, r.cap);
      t.equal(ring.slots, r.n);
      t.equal(ring.stride, r.stride);
      t.equal(slotStride(r.cap), r.stride);
      t.equal(ring.buffer.byteLength, slotRingByteLength(r.n, r.cap));
      t.equal(ring.dataOffset % CACHE_LINE, 0, 'slots start on a cache line');
      t.ok(ring.dataOffset >= CONTROL_BYTES + 5 * r.n, 'lengths and flags fit before the slots');
      for (const i of [0, r.n - 1]) {
        t.equal(ring.frames[i]!.byteOffset, ring.dataOffset + i * r.stride);
        t.equal(ring.frames[i]!.length, 10 + r.cap);
        t.equal(ring.packets[i]!.byteOffset, ring.frames[i]!.byteOffset + 10, 'packet after the 10-byte header area');
        t.equal(ring.packets[i]!.length, r.cap);
        t.equal(ring.headers[i]!.length, 10);
        t.equal(ring.packetOffset(i), ring.packets[i]!.byteOffset);
      }
      t.ok(ring.frames[r.n - 1]!.byteOffset + ring.frames[r.n - 1]!.length <= ring.buffer.byteLength);
    });
  }
  t.equal(nextPowerOfTwo(1), 1);
  t.equal(nextPowerOfTwo(5), 8);
  t.equal(nextPowerOfTwo(1024), 1024);
  t.throws(() => SlotRing.attach({ buffer: new SharedArrayBuffer(64), slots: 4, packetCapacity: 100 }), RangeError);
  t.throws(() => SlotRing.attach({ buffer: new SharedArrayBuffer(1 << 16), slots: 3, packetCapacity: 100 }), RangeError);
});

t.test('counters wrap around 2^32 without losing count', async (t) => {
  const ring = SlotRing.create(4, 16);
  const start = 0x7ffffffe;
  Atomics.store(ring.control, HEAD, start);
  Atomics.store(ring.control, TAIL, start);
  let head = start;
  let tail = start;
  for (let round = 0; round < 10; round++) {
    t.equal(ring.freeSlots(head), 4);
    head = (head + 3) | 0;
    ring.publish(head);
    t.equal(ring.filledSlots(tail), 3);
    t.equal(ring.freeSlots(head), 1);
    tail = (tail + 3) | 0;
    ring.release(tail);
    t.equal(ring.filledSlots(tail), 0);
  }
  t.ok(head < 0, 'the counter went past 2^31 - 1');
});

t.test('waiting flags: takeWaiting reports and clears once', async (t) => {
  const ring = SlotRing.create(2, 16);
  t.notOk(ring.takeWaiting(CONSUMER_WAITING));
  ring.setWaiting(CONSUMER_WAITING);
  t.ok(ring.takeWaiting(CONSUMER_WAITING));
  t.notOk(ring.takeWaiting(CONSUMER_WAITING));
  ring.setWaiting(PRODUCER_WAITING);
  ring.clearWaiting(PRODUCER_WAITING);
  t.notOk(ring.takeWaiting(PRODUCER_WAITING));
});

t.test('state: close keeps a failure; the first failure wins', async (t) => {
  const a = SlotRing.create(2, 16);
  t.equal(a.state, RingState.OPEN);
  a.close();
  t.equal(a.state, RingState.CLOSED);
  const b = SlotRing.create(2, 16);
  b.fail(RingFailure.DEVICE_GONE, 77);
  b.fail(RingFailure.READ, 5);
  b.close();
  t.equal(b.state, RingState.FAILED);
  t.equal(b.failure, RingFailure.DEVICE_GONE);
  t.equal(b.failureErrno, 77);
});

t.test('property: any interleaving of produce/consume matches a FIFO model', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }).map((e) => 1 << e),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 })), { maxLength: 200 }),
      fc.integer({ min: -5, max: 5 }).map((k) => (0x7fffffff + k) | 0),
      (slots, ops, start) => {
        const ring = SlotRing.create(slots, 8);
        Atomics.store(ring.control, HEAD, start);
        Atomics.store(ring.control, TAIL, start);
        let head = start;
        let tail = start;
        let next = 0;
        const model: number[] = [];
        for (const [produce, k] of ops) {
          if (produce) {
            const n = Math.min(k, ring.freeSlots(head));
            if (ring.freeSlots(head) !== slots - model.length) return false;
            for (let i = 0; i < n; i++) {
              const s = (head + i) & ring.mask;
              ring.lengths[s] = next;
              model.push(next++);
            }
            head = (head + n) | 0;
            ring.publish(head);
          } else {
            const avail = ring.filledSlots(tail);
            if (avail !== model.length) return false;
            const n = Math.min(k, avail);
            for (let i = 0; i < n; i++) {
              if (ring.lengths[(tail + i) & ring.mask] !== model.shift()) return false;
            }
            tail = (tail + n) | 0;
            ring.release(tail);
          }
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass('model agrees');
});

t.test('two threads: 200k sequence numbers arrive in order, none lost, with sleeping on both sides', async (t) => {
  const ring = SlotRing.create(64, 8);
  const total = 200_000;
  const src = `
    const { workerData } = require('node:worker_threads');
    const { buffer, slots, total } = workerData;
    const ctl = new Int32Array(buffer, 0, 80);
    const lengths = new Int32Array(buffer, 320, slots);
    const HEAD = 0, TAIL = 16, CW = 32, PW = 48;
    let head = 0, n = 0;
    while (n < total) {
      let free = slots - ((head - Atomics.load(ctl, TAIL)) | 0);
      if (free === 0) {
        Atomics.store(ctl, PW, 1);
        const seen = Atomics.load(ctl, TAIL);
        if (slots - ((head - seen) | 0) === 0) Atomics.wait(ctl, TAIL, seen, 1000);
        Atomics.store(ctl, PW, 0);
        continue;
      }
      const k = Math.min(free, 1 + (n % 7), total - n);
      for (let i = 0; i < k; i++) lengths[(head + i) & (slots - 1)] = n++;
      head = (head + k) | 0;
      Atomics.store(ctl, HEAD, head);
      if (Atomics.load(ctl, CW) !== 0 && Atomics.exchange(ctl, CW, 0) !== 0) Atomics.notify(ctl, HEAD);
    }
  `;
  const worker = new Worker(src, { eval: true, workerData: { buffer: ring.buffer, slots: ring.slots, total } });
  // Listen from the start: the producer can finish and exit before the consumer is done.
  const exited = new Promise((r) => worker.once('exit', r));
  let tail = 0;
  let expect = 0;
  let sleeps = 0;
  while (expect < total) {
    const avail = ring.filledSlots(tail);
    if (avail === 0) {
      ring.setWaiting(CONSUMER_WAITING);
      const seen = Atomics.load(ring.control, HEAD);
      if (ring.filledSlots(tail) === 0) {
        sleeps++;
        const r = waitAsync(ring.control, HEAD, seen, 2000);
        if (r.async) await r.value;
      }
      ring.clearWaiting(CONSUMER_WAITING);
      continue;
    }
    for (let i = 0; i < avail; i++) {
      const v = ring.lengths[(tail + i) & ring.mask];
      if (v !== expect) {
        t.fail(`slot value ${v}, expected ${expect}`);
        await worker.terminate();
        return;
      }
      expect++;
    }
    tail = (tail + avail) | 0;
    ring.release(tail);
    if (ring.takeWaiting(PRODUCER_WAITING)) Atomics.notify(ring.control, TAIL);
    if (expect % 5000 < avail) await new Promise((r) => setImmediate(r));
  }
  t.equal(expect, total);
  t.ok(sleeps > 0, `the consumer slept ${sleeps} times`);
  await exited;
});
