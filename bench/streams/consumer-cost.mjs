#!/usr/bin/env node
/**
 * Main-thread CPU cost per packet of the streams consumers, without devices or
 * workers (not part of `npm test`): a `TunStreams` over an in-memory reader that
 * hands out batches of BATCH packets from a prepared ring as fast as they are
 * asked for, and (for `pipe`) an in-memory writer that copies each packet into
 * a TX buffer the way linux-mq's PacketWriter does. What is left is exactly the
 * streams layer's own cost, which is what the drain and relay benchmarks add on
 * top of the queue workers. CPU time (process.cpuUsage: only the main thread
 * runs here), so a loaded machine moves the figures less than wall-clock ones.
 *
 *   node bench/streams/consumer-cost.mjs [--packets 2000000] [--batch 256] [--size 64]
 *                                        [--reps 5] [--via raw,batches,readable,iterate,pipe]
 *
 * raw: the reader itself (tryRead + release, the floor); batches: tun.batches;
 * readable: tun.readable, reader.read() per packet; iterate: for await over the
 * device; pipe: tun.readable.pipeTo(other.writable) (the relay's main-thread path).
 * Prints ns/packet (CPU) per consumer, medians over the reps. Imports the built dist.
 */
import { parseArgs } from 'node:util';
import { TunStreams } from '../../packages/streams/dist/src/tun-streams.js';

const { values } = parseArgs({
  options: {
    packets: { type: 'string', default: '2000000' },
    batch: { type: 'string', default: '256' },
    size: { type: 'string', default: '64' },
    reps: { type: 'string', default: '5' },
    via: { type: 'string', default: 'raw,batches,readable,iterate,pipe' },
  },
});
const PACKETS = Number(values.packets);
const BATCH = Number(values.batch);
const SIZE = Number(values.size);
const SLOTS = 4096;

/** A batch over `count` consecutive slots of the in-memory ring. */
class MemBatch {
  queue = 0;
  device = 0;
  count = 0;
  start = 0;
  done = true;
  constructor(reader) {
    this.reader = reader;
  }
  get released() {
    return this.done;
  }
  data(i) {
    return this.reader.views[(this.start + i) & (SLOTS - 1)];
  }
  length(i) {
    return this.data(i).length;
  }
  virtioHeader() {
    return null;
  }
  copy(i) {
    return this.data(i).slice();
  }
  release() {
    if (this.done) return;
    this.done = true;
    this.reader.free.push(this);
  }
}

/** A BatchReader stand-in: always has packets until `left` runs out, then ends. */
class MemReader {
  constructor(total) {
    const buf = new SharedArrayBuffer(SLOTS * SIZE);
    this.views = Array.from({ length: SLOTS }, (_, s) => new Uint8Array(buf, s * SIZE, SIZE));
    this.free = Array.from({ length: 4200 }, () => new MemBatch(this));
    this.left = total;
    this.cursor = 0;
  }
  tryRead() {
    if (this.left <= 0) return null;
    const b = this.free.pop();
    b.done = false;
    b.start = this.cursor;
    b.count = Math.min(BATCH, this.left);
    this.cursor = (this.cursor + b.count) & (SLOTS - 1);
    this.left -= b.count;
    return b;
  }
  read() {
    return Promise.resolve(this.tryRead());
  }
}

/** A PacketWriter stand-in: copies each packet into a TX buffer slot, like the real one. */
class MemWriter {
  constructor() {
    this.tx = new Uint8Array(new SharedArrayBuffer(SLOTS * (SIZE + 16)));
    this.head = 0;
    this.sent = 0;
  }
  trySend(packet) {
    this.tx.set(packet, (this.head & (SLOTS - 1)) * (SIZE + 16));
    this.head++;
    this.sent++;
    return true;
  }
  send(packet) {
    this.trySend(packet);
    return Promise.resolve();
  }
  flush() {}
}

function streamsOver(reader, writer = new MemWriter()) {
  const set = {
    devices: [{}],
    reader: () => reader,
    writer: () => writer,
    close: () => Promise.resolve(),
    totals: () => ({}),
    stats: () => [],
    closed: false,
  };
  return new TunStreams(set, { cursor: { copy: false, retain: 64, maxBatch: BATCH, timestamps: false }, txQueue: 'flow' });
}

const consumers = {
  async raw(n) {
    const r = new MemReader(n);
    let got = 0;
    for (let b = r.tryRead(); b !== null; b = r.tryRead()) {
      for (let i = 0; i < b.count; i++) got += b.data(i).length > 0 ? 1 : 0;
      b.release();
    }
    return got;
  },
  async batches(n) {
    const tun = streamsOver(new MemReader(n));
    const reader = tun.batches.getReader();
    let got = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (let i = 0; i < value.count; i++) got += value.data(i).length > 0 ? 1 : 0;
    }
    return got;
  },
  async readable(n) {
    const tun = streamsOver(new MemReader(n));
    const reader = tun.readable.getReader();
    let got = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got += value.data.length > 0 ? 1 : 0;
    }
    return got;
  },
  async iterate(n) {
    const tun = streamsOver(new MemReader(n));
    let got = 0;
    for await (const p of tun) got += p.data.length > 0 ? 1 : 0;
    return got;
  },
  async pipe(n) {
    const a = streamsOver(new MemReader(n));
    const writer = new MemWriter();
    const b = streamsOver(new MemReader(0), writer);
    await a.readable.pipeTo(b.writable);
    return writer.sent;
  },
};

const vias = values.via.split(',');
const results = Object.fromEntries(vias.map((v) => [v, []]));
for (let rep = 0; rep < Number(values.reps); rep++) {
  for (const via of vias) {
    await consumers[via](Math.min(PACKETS, 100_000)); // warm-up
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const got = await consumers[via](PACKETS);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (got !== PACKETS) throw new Error(`${via}: ${got} of ${PACKETS} packets`);
    results[via].push({ cpu: ((c.user + c.system) * 1000) / PACKETS, wall: (wall * 1e6) / PACKETS });
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
console.log(`consumer-cost: ${PACKETS} packets of ${SIZE} B in batches of ${BATCH}, ${values.reps} reps (median ns/packet)`);
for (const via of vias) {
  const cpu = median(results[via].map((r) => r.cpu));
  const wall = median(results[via].map((r) => r.wall));
  console.log(`  ${via.padEnd(9)} cpu ${cpu.toFixed(1).padStart(7)} ns/pkt   wall ${wall.toFixed(1).padStart(7)} ns/pkt`);
}
