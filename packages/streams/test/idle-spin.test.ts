/**
 * What a consumer does when it catches up with the rings (idle-spin.ts): it
 * publishes every device sink's pending TX packets first, then polls the rings
 * for up to `spin` microseconds before it sleeps; with spin 0 it sleeps at once.
 * Deterministic: the fake readers answer by call count, not by time (a spin's
 * first poll happens whatever the clock says).
 */
import t from 'tap';
import type { BatchReader, PacketBatch, PacketWriter } from '@tunpipe/linux-mq';
import { PacketCursor } from '../src/packet-cursor.js';
import { PacketSink } from '../src/packet-sink.js';
import { spinRead } from '../src/idle-spin.js';

/** One batch of one packet. */
function oneBatch(): PacketBatch {
  const b = {
    queue: 0,
    count: 1,
    released: false,
    data: () => new Uint8Array([0x45]),
    virtioHeader: () => null,
    copy: () => new Uint8Array([0x45]),
    release: () => {
      b.released = true;
    },
  };
  return b as unknown as PacketBatch;
}

/** A reader whose `tryRead` finds a batch only at call number `at` (1-based); `read` counts sleeps. */
function readerFindingAt(at: number): { reader: BatchReader; tries: () => number; sleeps: () => number } {
  let tries = 0;
  let sleeps = 0;
  const reader = {
    tryRead: () => (++tries === at ? oneBatch() : null),
    read: () => {
      sleeps++;
      return Promise.resolve(oneBatch());
    },
  };
  return { reader: reader as unknown as BatchReader, tries: () => tries, sleeps: () => sleeps };
}

const cursorOptions = { copy: false, retain: 0, maxBatch: 4, timestamps: false };

t.test('table: spin 0 sleeps at once; a spin finds what arrives while it polls', async (t) => {
  const rows = [
    { name: 'no spin: the first empty tryRead sends the cursor to sleep', spin: 0, at: 2, sleeps: 1 },
    { name: 'spin: the packet found by the first poll, no sleep', spin: 1000, at: 2, sleeps: 0 },
    { name: 'spin: found by a later poll, no sleep', spin: 1000, at: 4, sleeps: 0 },
  ];
  for (const row of rows) {
    const r = readerFindingAt(row.at);
    const cursor = new PacketCursor(r.reader, { ...cursorOptions, spin: row.spin });
    t.equal(await cursor.fill(undefined), true, `${row.name}: packets`);
    t.equal(r.sleeps(), row.sleeps, `${row.name}: sleeps`);
    cursor.close();
  }
});

t.test('a spin that finds nothing ends (bounded) and the cursor sleeps', async (t) => {
  const r = readerFindingAt(Number.POSITIVE_INFINITY);
  const cursor = new PacketCursor(r.reader, { ...cursorOptions, spin: 50 });
  t.equal(await cursor.fill(undefined), true);
  t.equal(r.sleeps(), 1, 'it went to sleep after the spin');
  t.ok(r.tries() >= 2, `the spin polled (${r.tries() - 1} polls)`);
  cursor.close();
});

t.test('catching up publishes pending TX packets of every live sink, and only of live ones', async (t) => {
  const flushes: string[] = [];
  const writerNamed = (name: string): PacketWriter =>
    ({ trySend: () => true, flush: () => flushes.push(name) }) as unknown as PacketWriter;
  const a = new PacketSink(writerNamed('a'), 'flow');
  const b = new PacketSink(writerNamed('b'), 'flow');
  t.same(spinRead(() => null, 0), null);
  t.same(flushes, [], 'nothing pending: no flush');
  a.trySend(new Uint8Array([0x45]));
  b.trySend(new Uint8Array([0x45]));
  const r = readerFindingAt(2);
  const cursor = new PacketCursor(r.reader, cursorOptions);
  await cursor.fill(undefined);
  t.same(flushes.sort(), ['a', 'b'], 'both sinks published before the cursor slept');
  b.dispose();
  a.trySend(new Uint8Array([0x45]));
  b.trySend(new Uint8Array([0x45]));
  flushes.length = 0;
  spinRead(() => null, 0);
  t.same(flushes, ['a'], 'a disposed sink is left alone');
  a.dispose();
  cursor.close();
});
