/**
 * Consumer handovers of one device against an eager ring: a fake RX ring whose
 * "worker" refills every slot the instant it is released (the worst a loaded
 * machine can do), driving the real `TunStreams` consumers (`packets$`, async
 * iteration, `readable`, `batches`) in turn. Specifies:
 *
 * - the handed-out sequence over all consumers is gap-free and has no repeats:
 *   a consumer that stops mid-batch (`take(n)`, `break`) leaves exactly the
 *   rest to the next one;
 * - no slot goes back to the worker while the cursor's contract still covers a
 *   packet in it (handed out less than `retain` packets ago, consumer not caught
 *   up): every such view still shows its own packet;
 * - and the contract's other side, which the device test once broke (issue 5:
 *   26 datagrams "twice", 26 "never seen"): views kept past the window, e.g. by
 *   `take(200), toArray()` with retain 64, are recycled; `copy()` in the
 *   pipeline keeps them.
 */
import t from 'tap';
import fc from 'fast-check';
import { firstValueFrom, map, take, toArray } from 'rxjs';
import type { BatchReader, PacketBatch, QueueSet } from '@tunpipe/linux-mq';
import { TunStreams } from '../src/tun-streams.js';
import type { Packet } from '../src/packet.js';

/** Bytes per fake slot: the packet is its sequence number, u32 big-endian. */
const SLOT_BYTES = 4;

/** A batch over consecutive slots of an `EagerRing`. */
class RingBatch {
  readonly queue = 0;
  readonly device = 0;
  done = false;
  constructor(
    private readonly ring: EagerRing,
    readonly start: number,
    readonly count: number,
  ) {}
  get released(): boolean {
    return this.done;
  }
  data(i: number): Uint8Array {
    if (this.done) throw new Error(`batch at ${this.start} used after release`);
    return this.ring.view(this.start + i);
  }
  virtioHeader(): Uint8Array | null {
    return null;
  }
  copy(i: number): Uint8Array {
    return this.data(i).slice();
  }
  release(): void {
    if (this.done) return;
    this.done = true;
    this.ring.released(this);
  }
}

/**
 * A ring of `slots` slots and a producer of `total` packets (sequence numbers
 * 0, 1, ...) that refills slots the moment they are released. `sizes` scripts
 * the batch sizes (cycled); `waits` the batch numbers at which the reader finds
 * the ring "empty" first (the consumer caught up: `tryRead` null, `read` then
 * hands the batch).
 */
class EagerRing {
  /** Ring counter of the next slot the reader hands out. */
  private cursor = 0;
  /** Ring counter up to which slots went back to the producer. */
  private tail = 0;
  /** Next sequence number to produce, and up to which ring counter slots hold packets. */
  private produced = 0;
  private readonly memory: Uint8Array;
  private readonly dv: DataView;
  private readonly views: Uint8Array[];
  private readonly outstanding: RingBatch[] = [];
  private batchNo = 0;
  /** Reads that had to wait (the consumer caught up with the device). */
  waits = 0;
  /** Packets the reader handed out (in batches). */
  taken = 0;
  constructor(
    readonly slots: number,
    private readonly total: number,
    private readonly sizes: readonly number[],
    private readonly waitAt: ReadonlySet<number> = new Set(),
  ) {
    this.memory = new Uint8Array(slots * SLOT_BYTES);
    this.dv = new DataView(this.memory.buffer);
    this.views = Array.from({ length: slots }, (_, s) => this.memory.subarray(s * SLOT_BYTES, (s + 1) * SLOT_BYTES));
    this.produce();
  }

  /** The view of ring counter `k` (one cached view per slot, like linux-mq's reader). */
  view(k: number): Uint8Array {
    return this.views[k % this.slots]!;
  }

  /** The eager worker: fills every free slot with the next packets. */
  private produce(): void {
    while (this.produced < this.total && this.produced - this.tail < this.slots) {
      this.dv.setUint32((this.produced % this.slots) * SLOT_BYTES, this.produced);
      this.produced++;
    }
  }

  released(batch: RingBatch): void {
    const out = this.outstanding;
    while (out.length > 0 && out[0]!.done) {
      const b = out.shift()!;
      this.tail = b.start + b.count;
    }
    this.produce();
    void batch;
  }

  private take(): RingBatch | null {
    const avail = this.produced - this.cursor;
    if (avail <= 0) return null;
    const want = this.sizes[this.batchNo % this.sizes.length]!;
    const b = new RingBatch(this, this.cursor, Math.min(want, avail));
    this.batchNo++;
    this.cursor += b.count;
    this.taken += b.count;
    this.outstanding.push(b);
    return b;
  }

  // ---- the BatchReader surface the streams layer uses ----

  tryRead(): PacketBatch | null {
    if (this.waitAt.has(this.batchNo) && !this.waitedFor.has(this.batchNo)) return null;
    return this.take() as unknown as PacketBatch | null;
  }

  private readonly waitedFor = new Set<number>();

  read(): Promise<PacketBatch | null> {
    this.waits++;
    this.waitedFor.add(this.batchNo);
    return Promise.resolve(this.take() as unknown as PacketBatch | null);
  }
}

/** A TunStreams over `ring` (no device, no workers: only the reading side is used). */
function streamsOver(ring: EagerRing, retain: number, maxBatch: number): TunStreams {
  const set = {
    devices: [{}],
    reader: () => ring as unknown as BatchReader,
    writer: () => ({}),
    close: () => Promise.resolve(),
    totals: () => ({}),
    stats: () => [],
    closed: false,
  } as unknown as QueueSet;
  return new TunStreams(set, { cursor: { copy: false, retain, maxBatch, timestamps: false }, txQueue: 'flow' });
}

const seqOf = (data: Uint8Array): number => new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);

/**
 * Watches the cursor's promise while packets are handed out: `hand(p)` records
 * the packet and checks that every packet still inside the window (fewer than
 * `retain` packets taken from the ring after it, since the consumer last caught
 * up; always the latest) still shows its own bytes. Sequence numbers are ring
 * order, so "taken after it" is the distance in sequence numbers (packets a
 * cancelled readable discarded count: they were taken too).
 */
class WindowWatch {
  readonly seqs: number[] = [];
  private live: Array<{ view: Uint8Array; seq: number }> = [];
  violations = 0;
  private lastWaits = 0;
  constructor(
    private readonly ring: EagerRing,
    private readonly retain: number,
  ) {}
  hand(p: Packet): void {
    if (this.ring.waits !== this.lastWaits) {
      // The consumer caught up: the cursor may release everything handed out before.
      this.lastWaits = this.ring.waits;
      this.live = [];
    }
    const seq = seqOf(p.data);
    this.seqs.push(seq);
    this.live.push({ view: p.data, seq });
    while (seq - this.live[0]!.seq > this.retain) this.live.shift();
    for (const l of this.live) if (seqOf(l.view) !== l.seq) this.violations++;
  }
}

t.test('the device test\'s sequence of consumers on an eager ring: every packet once, in order', async (t) => {
  // The shape of device-consumers.test.ts, deterministic: 256 slots, retain 64, batches of 1..64.
  const ring = new EagerRing(256, 2000, [37, 64, 5, 1, 64, 23, 64, 64, 2], new Set([3, 9, 14]));
  const tun = streamsOver(ring, 64, 64);
  const watch = new WindowWatch(ring, 64);

  // 1. for await, left after 300.
  for await (const p of tun) {
    watch.hand(p);
    if (watch.seqs.length === 300) break;
  }
  t.equal(tun.activeConsumer, undefined, 'break released the device');

  // 2. packets$ with take(200): unsubscribes mid-batch. Copies kept, views recorded.
  const views: Packet[] = [];
  const copies = await firstValueFrom(
    tun.packets$.pipe(
      take(200),
      map((p) => {
        watch.hand(p);
        views.push(p);
        return p.copy();
      }),
      toArray(),
    ),
  );
  t.equal(tun.activeConsumer, undefined, 'take(200) released the device');
  t.same(copies.map((c) => seqOf(c.data)), range(300, 500), 'copies taken in the pipeline keep their packets');

  // 3. for await again: continues with packet 500.
  for await (const p of tun.packets()) {
    watch.hand(p);
    if (watch.seqs.length === 800) break;
  }
  t.same(watch.seqs, range(0, 800), 'three consumers in turn: 0..799, none twice, none skipped');
  t.equal(watch.violations, 0, 'no packet inside the retention window was recycled under its consumer');
  const stale = views.filter((p, i) => seqOf(p.data) !== 300 + i).length;
  t.ok(stale > 0, `views kept past the window by toArray() were recycled by the eager worker (${stale} of 200): copy() is required`);

  // 4. batches: the cursor's rest is dropped and counted; batch packets continue after it.
  const takenBefore = ring.taken;
  const reader = tun.batches.getReader();
  const b1 = (await reader.read()).value!;
  t.equal(tun.stats().discarded, takenBefore - 800, 'the rest the cursor held is counted as discarded');
  t.equal(seqOf(b1.data(0)), takenBefore, 'the first batch starts right after what the cursor had taken');
  const b1end = seqOf(b1.data(b1.count - 1));
  const b2 = (await reader.read()).value!;
  t.ok(b1.released, 'reading the next batch released the previous one');
  t.equal(seqOf(b2.data(0)), b1end + 1, 'batches follow each other without gaps');
  const last = seqOf(b2.data(b2.count - 1));
  await reader.cancel();
  t.ok(b2.released, 'cancel released the last batch');

  // 5. readable: continues after the last batch.
  const r = tun.readable.getReader();
  const next = await r.read();
  t.equal(seqOf(next.value!.data), last + 1, 'the readable continues after the batches');
  await r.cancel();
  await tun.close();
});

t.test('property: handovers between packets$, async iteration and the readable keep every packet exactly once', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 1, max: 32 }),
      fc.array(fc.integer({ min: 1, max: 32 }), { minLength: 1, maxLength: 12 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 10 }),
      fc.array(fc.record({ kind: fc.constantFrom('packets$', 'iterate', 'readable'), n: fc.integer({ min: 1, max: 90 }) }), {
        minLength: 1,
        maxLength: 10,
      }),
      async (retain, maxBatch, rawSizes, waits, consumers) => {
        const slots = 2 * (retain + 2 * maxBatch) + 8;
        const ring = new EagerRing(slots, 100_000, rawSizes.map((s) => Math.min(s, maxBatch)), new Set(waits));
        const tun = streamsOver(ring, retain, maxBatch);
        const watch = new WindowWatch(ring, retain);
        let previous: string | undefined;
        for (const { kind, n } of consumers) {
          const from = watch.seqs.length;
          const next = from === 0 ? 0 : watch.seqs[from - 1]! + 1;
          if (kind === 'packets$') {
            await firstValueFrom(tun.packets$.pipe(take(n), map((p) => watch.hand(p)), toArray()));
          } else if (kind === 'iterate') {
            let got = 0;
            for await (const p of tun) {
              watch.hand(p);
              if (++got === n) break;
            }
          } else {
            const reader = tun.readable.getReader();
            for (let i = 0; i < n; i++) watch.hand((await reader.read()).value!);
            await reader.cancel();
          }
          const mine = watch.seqs.slice(from);
          if (mine.length !== n) return false;
          for (let i = 1; i < n; i++) if (mine[i] !== mine[i - 1]! + 1) return false;
          // packets$ and loops stop exactly after their last packet; a cancelled readable
          // discards what it had queued for its reader (less than one batch), never more.
          const skipped = mine[0]! - next;
          if (previous === 'readable' ? skipped < 0 || skipped >= maxBatch : skipped !== 0) return false;
          previous = kind;
        }
        await tun.close();
        return watch.violations === 0 && tun.activeConsumer === undefined;
      },
    ),
    { numRuns: 200 },
  );
  t.pass('200 random handover sequences: no repeats, no packet recycled inside the window');
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
