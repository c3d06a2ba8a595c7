/**
 * The rules of `PacketCursor` (packet-cursor.ts), against a scripted reader: a
 * batch is released once `retain` packets were handed out after it, or when the
 * consumer catches up with the device, never earlier; pooled packet objects are
 * refilled only after their previous packet's batch was released; a consumer
 * that stops mid-batch leaves the rest to the next; copy mode hands out owned
 * bytes and releases at once.
 */
import t from 'tap';
import fc from 'fast-check';
import type { BatchReader, PacketBatch } from '@tunpipe/linux-mq';
import { VIRTIO_NET_HDR_GSO_TCPV4, createVirtioNetHdr, encodeVirtioNetHdr } from '@tunpipe/offload';
import { PacketCursor } from '../src/packet-cursor.js';
import type { Packet } from '../src/packet.js';

/** A batch of `count` packets; packet i of batch b holds bytes [b, i]. */
class FakeBatch {
  readonly queue = 0;
  releases = 0;
  readonly packets: Uint8Array[];
  constructor(
    readonly id: number,
    readonly count: number,
    readonly header: Uint8Array | null = null,
  ) {
    this.packets = Array.from({ length: count }, (_, i) => new Uint8Array([id & 255, i & 255]));
  }
  get released(): boolean {
    return this.releases > 0;
  }
  data(i: number): Uint8Array {
    if (this.released) throw new Error(`batch ${this.id} used after release`);
    return this.packets[i]!;
  }
  virtioHeader(): Uint8Array | null {
    return this.header;
  }
  copy(i: number): Uint8Array {
    return this.data(i).slice();
  }
  release(): void {
    this.releases++;
  }
}

/** What the scripted reader does on one fill: hand out a batch now, or make the cursor wait first. */
type Step = { size: number; wait: boolean };

/** A reader that plays `steps`; `tryRead` returns null for steps that wait, `read` then hands the batch. */
class ScriptedReader {
  readonly batches: FakeBatch[] = [];
  waits = 0;
  private next = 0;
  constructor(private readonly steps: readonly Step[]) {}
  private make(): FakeBatch | null {
    const step = this.steps[this.next];
    if (step === undefined) return null;
    const b = new FakeBatch(this.next++, step.size);
    this.batches.push(b);
    return b;
  }
  tryRead(): PacketBatch | null {
    const step = this.steps[this.next];
    if (step === undefined || step.wait) return null;
    return this.make() as unknown as PacketBatch;
  }
  read(): Promise<PacketBatch | null> {
    this.waits++;
    return Promise.resolve(this.make() as unknown as PacketBatch | null);
  }
}

function cursorOver(reader: ScriptedReader, retain: number, maxBatch: number, copy = false): PacketCursor {
  return new PacketCursor(reader as unknown as BatchReader, { copy, retain, maxBatch, timestamps: false });
}

/** Fills and hands out the whole batch; resolves the packets, or null at the end. */
async function readBatch(cursor: PacketCursor): Promise<Packet[] | null> {
  if (!(await cursor.fill(undefined))) return null;
  const out: Packet[] = [];
  for (let p = cursor.next(); p !== undefined; p = cursor.next()) out.push(p);
  return out;
}

t.test('table: when batches go back to the workers', async (t) => {
  const rows: Array<{ name: string; retain: number; steps: Step[]; released: number[][] }> = [
    {
      name: 'retain 0: the previous batch goes at the next fill',
      retain: 0,
      steps: [{ size: 3, wait: false }, { size: 2, wait: false }, { size: 1, wait: false }],
      released: [[], [0], [0, 1]],
    },
    {
      name: 'retain 4: held until 4 packets were handed out after it',
      retain: 4,
      steps: [{ size: 3, wait: false }, { size: 2, wait: false }, { size: 2, wait: false }, { size: 1, wait: false }],
      // after fill 3 (handed 3+2=5 before it): batch 0 ended at 3, 5-3 = 2 < 4 -> held; fill 4: 7-3 = 4 -> released
      released: [[], [], [], [0]],
    },
    {
      name: 'catching up with the device releases everything held',
      retain: 100,
      steps: [{ size: 5, wait: false }, { size: 5, wait: false }, { size: 1, wait: true }],
      released: [[], [], [0, 1]],
    },
  ];
  for (const row of rows) {
    const reader = new ScriptedReader(row.steps);
    const cursor = cursorOver(reader, row.retain, 8);
    for (let f = 0; f < row.steps.length; f++) {
      t.ok(await readBatch(cursor));
      const released = reader.batches.filter((b) => b.released).map((b) => b.id);
      t.same(released, row.released[f], `${row.name}: after fill ${f + 1}`);
    }
    t.equal(await cursor.fill(undefined), false, `${row.name}: the end`);
    cursor.close();
    t.ok(reader.batches.every((b) => b.releases === 1), `${row.name}: close releases the rest, each batch once`);
  }
});

t.test('property: retention window, prompt release, pool safety', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.record({ size: fc.integer({ min: 1, max: 8 }), wait: fc.boolean() }), { minLength: 1, maxLength: 40 }),
      async (retain, maxBatch, rawSteps) => {
        const steps = rawSteps.map((s) => ({ size: Math.min(s.size, maxBatch), wait: s.wait }));
        const reader = new ScriptedReader(steps);
        const cursor = cursorOver(reader, retain, maxBatch);
        const owner = new Map<Packet, FakeBatch>();
        const ends: number[] = [];
        let handed = 0;
        for (const step of steps) {
          const before = handed;
          const waitsBefore = reader.waits;
          const releasedBefore = new Set(reader.batches.filter((b) => b.released));
          const got = await readBatch(cursor);
          if (got === null) return false;
          const caughtUp = reader.waits > waitsBefore;
          const batch = reader.batches[reader.batches.length - 1]!;
          for (const b of reader.batches.slice(0, -1)) {
            const end = ends[b.id]!;
            // Released exactly when the window passed it, or everything at a catch-up.
            const due = releasedBefore.has(b) || caughtUp || end <= before - retain;
            if (b.released !== due || b.releases > 1) return false;
          }
          if (batch.released) return false;
          handed += step.size;
          ends[batch.id] = handed;
          // Every packet of this fill is a distinct object, not shared with a packet still valid.
          if (got.length !== step.size) return false;
          for (let i = 0; i < got.length; i++) {
            const p = got[i]!;
            const prev = owner.get(p);
            if (prev !== undefined && prev !== batch && !prev.released) return false;
            owner.set(p, batch);
            if (p.data !== batch.packets[i]) return false;
          }
          if (new Set(got).size !== got.length) return false;
        }
        cursor.close();
        return reader.batches.every((b) => b.releases === 1);
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random read sequences kept the rules');
});

t.test('copy mode: owned bytes, batches released at once', async (t) => {
  const reader = new ScriptedReader([{ size: 3, wait: false }, { size: 2, wait: false }]);
  const cursor = cursorOver(reader, 64, 4, true);
  const first = (await readBatch(cursor))!;
  t.ok(reader.batches[0]!.released, 'the batch went back as soon as it was copied');
  t.not(first[0]!.data, reader.batches[0]!.packets[0], 'the packet has its own bytes');
  t.same([...first[2]!.data], [0, 2], 'with the same contents');
  const second = (await readBatch(cursor))!;
  t.not(second[0], first[0], 'copies are new objects');
  t.same([...first[0]!.data], [0, 0], 'earlier copies stay intact');
  cursor.close();
});

t.test('view mode: virtio headers decoded in place, copy() detaches', async (t) => {
  const hdr = createVirtioNetHdr();
  hdr.gsoType = VIRTIO_NET_HDR_GSO_TCPV4;
  hdr.gsoSize = 1448;
  hdr.flags = 1;
  const raw = new Uint8Array(10);
  encodeVirtioNetHdr(hdr, raw);
  const batch = new FakeBatch(0, 1, raw);
  const reader = {
    tryRead: () => batch as unknown as PacketBatch,
    read: () => Promise.resolve(null),
  };
  const cursor = new PacketCursor(reader as unknown as BatchReader, { copy: false, retain: 0, maxBatch: 1, timestamps: true });
  t.equal(await cursor.fill(undefined), true);
  const p = cursor.next()!;
  t.same(p.virtioHeader, hdr, 'the header as offload decodes it');
  t.equal(typeof p.timestamp, 'bigint', 'stamped');
  const kept = p.copy();
  t.not(kept.data, p.data);
  t.not(kept.virtioHeader, p.virtioHeader, 'the header object is copied too');
  t.same(kept.virtioHeader, hdr);
  cursor.close();
  t.ok(batch.released);
});

t.test('a fill that finds the cursor closed during its wait hands the batch back', async (t) => {
  const late = new FakeBatch(7, 2);
  let resolveRead: (b: PacketBatch) => void = () => undefined;
  const reader = {
    tryRead: () => null,
    read: () => new Promise<PacketBatch>((r) => (resolveRead = r)),
  };
  const cursor = new PacketCursor(reader as unknown as BatchReader, { copy: false, retain: 4, maxBatch: 2, timestamps: false });
  const filling = cursor.fill(undefined);
  cursor.close();
  resolveRead(late as unknown as PacketBatch);
  t.equal(await filling, false, 'the fill reports the end');
  t.equal(late.releases, 1, 'and released the batch it got');
});

t.test('a consumer that stops mid-batch leaves the rest to the next; discardRest drops it', async (t) => {
  const reader = new ScriptedReader([{ size: 4, wait: false }, { size: 3, wait: false }]);
  const cursor = cursorOver(reader, 0, 4);
  t.equal(await cursor.fill(undefined), true);
  t.same([...cursor.next()!.data], [0, 0]);
  t.same([...cursor.next()!.data], [0, 1]);
  t.equal(cursor.remaining, 2, 'the first consumer walked away after two');
  t.equal(await cursor.fill(undefined), true, 'the next consumer finds packets without a read');
  t.equal(reader.batches.length, 1, 'no batch was taken from the rings');
  t.same([...cursor.next()!.data], [0, 2], 'and continues exactly where the first stopped');
  t.equal(cursor.discardRest(), 1, 'one packet was left when the rest was dropped');
  t.ok(reader.batches[0]!.released, 'dropping the rest released the batch');
  t.equal(cursor.next(), undefined);
  const next = await readBatch(cursor);
  t.same(next!.map((p) => [...p.data]), [[1, 0], [1, 1], [1, 2]]);
  cursor.close();
});

t.test('fills of two consumers run one after the other', async (t) => {
  const batch = new FakeBatch(0, 2);
  let resolveRead: (b: PacketBatch | null) => void = () => undefined;
  let reads = 0;
  const reader = {
    tryRead: () => null,
    read: () => {
      reads++;
      return new Promise<PacketBatch | null>((r) => (resolveRead = r));
    },
  };
  const cursor = new PacketCursor(reader as unknown as BatchReader, { copy: false, retain: 0, maxBatch: 2, timestamps: false });
  const first = cursor.fill(undefined);
  const second = cursor.fill(undefined);
  await new Promise((r) => setImmediate(r));
  t.equal(reads, 1, 'the second fill waits for the first instead of reading too');
  resolveRead(batch as unknown as PacketBatch);
  t.same([await first, await second], [true, true], 'and then finds its packets');
  t.equal(reads, 1);
  t.equal(cursor.remaining, 2);
  cursor.close();
});
