/**
 * PcapWriter: the file format field by field (an independent reader), odd packet
 * sizes read back by tcpdump, buffering (property: any buffer size gives the same
 * bytes), backpressure and drops, errors, files and disposal.
 */
import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTunError } from '@tunpipe/offload';
import { openFds, tcpdumpRead } from '@tunpipe/testkit';
import { packetOf } from '../src/packet.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter, type PcapWriterOptions } from '../src/pcap-writer.js';
import { readPcap } from './pcap-file.js';
import { concatBytes, recordingWritable } from './web-stream-io.js';

const dir = mkdtempSync(join(tmpdir(), 'tp-pcap-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tmpFile = (): string => join(dir, `f${fileNo++}.pcap`);

/** Writes with `fn` into an in-memory sink and returns the file bytes. */
async function capture(options: PcapWriterOptions, fn: (w: PcapWriter) => Promise<void>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter(recordingWritable(chunks), options);
  await fn(w);
  await w.close();
  return concatBytes(chunks);
}

function ipv4Like(length: number, seed = 0): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (seed + i * 13) & 0xff;
  if (length > 0) b[0] = 0x45;
  return b;
}

t.test('global header: magic by precision, version 2.4, snaplen, link type', async (t) => {
  const rows: Array<[string, PcapWriterOptions, { magic: number; nanos: boolean; snaplen: number; linkType: number }]> = [
    ['defaults: raw, micro, 262144', {}, { magic: 0xa1b2c3d4, nanos: false, snaplen: 262144, linkType: LINKTYPE_RAW }],
    ['nano', { precision: 'nano' }, { magic: 0xa1b23c4d, nanos: true, snaplen: 262144, linkType: 101 }],
    ['ethernet, snaplen 96', { linkType: 'ethernet', snaplen: 96 }, { magic: 0xa1b2c3d4, nanos: false, snaplen: 96, linkType: LINKTYPE_ETHERNET }],
    ['numeric link type 228', { linkType: 228 }, { magic: 0xa1b2c3d4, nanos: false, snaplen: 262144, linkType: 228 }],
  ];
  for (const [name, options, want] of rows) {
    const bytes = await capture(options, async () => undefined);
    t.equal(bytes.length, 24, `${name}: an empty capture is just the header`);
    const { header, records } = readPcap(bytes);
    t.same(
      { magic: header.magic, nanos: header.nanos, snaplen: header.snaplen, linkType: header.linkType, v: [header.versionMajor, header.versionMinor], le: header.littleEndian },
      { ...want, v: [2, 4], le: true },
      name,
    );
    t.equal(records.length, 0);
  }
});

t.test('timestamps: packet, override, clock; micro truncates, nano keeps', async (t) => {
  const ts = 1_700_000_000_123_456_789n;
  for (const precision of ['micro', 'nano'] as const) {
    const bytes = await capture({ precision, clock: () => 5_000_000_007n }, async (w) => {
      await w.write(packetOf(ipv4Like(20), { timestamp: ts }));
      await w.write(packetOf(ipv4Like(20), { timestamp: ts }), 42_000_000_001n);
      await w.write(ipv4Like(20));
    });
    const r = readPcap(bytes).records.map((x) => [x.seconds, x.fraction]);
    const frac = (ns: number) => (precision === 'nano' ? ns : Math.floor(ns / 1000));
    t.same(r, [[1_700_000_000, frac(123_456_789)], [42, frac(1)], [5, frac(7)]], precision);
  }
});

t.test('odd sizes: record lengths exact, snaplen cut, orig_len kept; tcpdump reads them all', async (t) => {
  const sizes = [0, 1, 2, 19, 20, 1499, 1500, 1501, 65535, 65536, 70000];
  for (const snaplen of [1500, 262144]) {
    const file = tmpFile();
    const w = new PcapWriter(file, { snaplen });
    for (const [i, n] of sizes.entries()) await w.write(packetOf(ipv4Like(n, i), { timestamp: BigInt(i) * 1_000_000_000n }));
    await w.close();
    const { records } = readPcap(new Uint8Array(readFileSync(file)));
    t.same(
      records.map((r) => [r.inclLen, r.origLen]),
      sizes.map((n) => [Math.min(n, snaplen), n]),
      `snaplen ${snaplen}: incl_len and orig_len`,
    );
    t.ok(records.every((r, i) => Buffer.from(r.data).equals(Buffer.from(ipv4Like(sizes[i]!, i).subarray(0, r.inclLen)))), 'bytes kept exactly');
    t.equal(w.stats().truncated, sizes.filter((n) => n > snaplen).length);
    const lines = await tcpdumpRead(file, ['-tt']);
    t.equal(lines.length, sizes.length, `tcpdump printed one line per record (snaplen ${snaplen})`);
    t.match(lines[0], /caplen==0/, 'the empty packet is there, as an empty record');
    t.same(
      lines.slice(1).map((l) => Number(l.split(' ')[0])),
      sizes.slice(1).map((_, i) => i + 1),
      'tcpdump sees every timestamp in order',
    );
  }
});

t.test('property: any buffer size writes the same bytes', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.nat({ max: 3000 }), { maxLength: 30 }),
      fc.integer({ min: 24, max: 5000 }),
      fc.constantFrom<'micro' | 'nano'>('micro', 'nano'),
      fc.integer({ min: 1, max: 2000 }),
      async (sizes, bufferSize, precision, snaplen) => {
        const write = async (w: PcapWriter) => {
          for (const [i, n] of sizes.entries()) await w.write(ipv4Like(n, i), BigInt(i) * 1_000_123n);
        };
        const reference = await capture({ precision, snaplen }, write);
        const small = await capture({ precision, snaplen, bufferSize }, write);
        return Buffer.from(small).equals(Buffer.from(reference)) && readPcap(small).records.length === sizes.length;
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

t.test('records are buffered: a hundred small packets reach the sink as one chunk', async (t) => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter(recordingWritable(chunks));
  for (let i = 0; i < 100; i++) await w.write(ipv4Like(60, i), 1n);
  t.equal(chunks.length, 0, 'nothing written yet');
  await w.flush();
  t.equal(chunks.length, 1, 'flush writes one chunk');
  t.equal(chunks[0]!.length, 24 + 100 * (16 + 60));
  await w.close();
});

t.test('backpressure: write() waits for a slow sink; tryWrite() drops past maxPendingBytes', async (t) => {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  const written: Uint8Array[] = [];
  const slow = new WritableStream<Uint8Array>({
    async write(chunk) {
      await gate;
      written.push(chunk);
    },
  });
  const w = new PcapWriter(slow, { bufferSize: 1024, maxPendingBytes: 4096 });
  // tryWrite: fills the pending window, then drops.
  let accepted = 0;
  for (let i = 0; i < 100; i++) if (w.tryWrite(ipv4Like(200, i), 1n)) accepted++;
  t.ok(accepted > 0 && accepted < 100, `accepted ${accepted} of 100 while the sink was stuck`);
  t.equal(w.stats().dropped, 100 - accepted);
  t.ok(accepted * 216 <= 4096 + 2 * 1024, 'accepted bytes stay within maxPendingBytes + buffer');
  // write: does not resolve while the sink is stuck.
  let done = false;
  const pending = w.write(ipv4Like(2000), 1n).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 30));
  t.equal(done, false, 'write() is held while the sink is behind');
  release();
  gate = Promise.resolve();
  await pending;
  t.ok(w.tryWrite(ipv4Like(10), 1n), 'tryWrite accepts again once the sink caught up');
  await w.close();
  const { records } = readPcap(concatBytes(written));
  t.equal(records.length, accepted + 2, 'exactly the accepted packets were recorded');
});

t.test('errors: failing sink, bad file, use after close, bad options, bad timestamps', async (t) => {
  const failing = new WritableStream<Uint8Array>({
    write() {
      throw new Error('sink broke');
    },
  });
  const w = new PcapWriter(failing, { bufferSize: 64 });
  await w.write(ipv4Like(100), 1n).catch(() => undefined);
  await t.rejects(w.write(ipv4Like(100), 1n), { code: 'ERR_TUN_CAPTURE_WRITE', cause: { message: 'sink broke' } });
  await t.rejects(w.close(), { code: 'ERR_TUN_CAPTURE_WRITE' });

  const missing = new PcapWriter(join(dir, 'no', 'such', 'dir.pcap'));
  const err = await missing.close().then(() => undefined, (e: unknown) => e);
  t.ok(isTunError(err, 'ERR_TUN_CAPTURE_WRITE'), String(err));
  t.equal((err as { sysCode?: string }).sysCode, 'ENOENT');
  t.equal((err as { syscall?: string }).syscall, 'open');

  const closed = new PcapWriter(recordingWritable([]));
  await closed.close();
  await closed.close(); // idempotent
  await t.rejects(closed.write(ipv4Like(1), 1n), { code: 'ERR_TUN_CLOSED' });
  t.throws(() => closed.tryWrite(ipv4Like(1), 1n), { code: 'ERR_TUN_CLOSED' });

  const bad: PcapWriterOptions[] = [{ snaplen: 0 }, { snaplen: 262145 }, { precision: 'milli' as 'micro' }, { linkType: 'ppp' as 'raw' }, { bufferSize: 10 }, { linkType: -1 }];
  for (const o of bad) t.throws(() => new PcapWriter(recordingWritable([]), o), { code: 'ERR_TUN_INVALID_ARGUMENT' }, JSON.stringify(o));
  const ok = new PcapWriter(recordingWritable([]));
  await t.rejects(ok.write(ipv4Like(1), -1n), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  await ok.close();
});

t.test('files: close() releases the fd; await using closes too', async (t) => {
  const before = openFds();
  const file = tmpFile();
  {
    await using w = new PcapWriter(file, { linkType: 'ethernet' });
    await w.write(ipv4Like(60), 1n);
  }
  t.equal(openFds(), before, 'no fd left open');
  const { header, records } = readPcap(new Uint8Array(readFileSync(file)));
  t.equal(header.linkType, 1);
  t.equal(records.length, 1);
});
