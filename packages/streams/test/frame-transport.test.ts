/**
 * The framed transport: packets -> `u32 BE length + msgpack body` frames -> packets.
 * Round trips, the exact wire format, arbitrary chunk splits (property), bounded
 * buffering, and every error in both `onError` modes.
 */
import t from 'tap';
import fc from 'fast-check';
import { encode as msgpackEncode, decode as msgpackDecode } from '@msgpack/msgpack';
import { isTunError } from '@tunpipe/offload';
import { encodeFrames } from '../src/frame-encoder.js';
import { DEFAULT_MAX_FRAME_SIZE } from '../src/frame-format.js';
import { packetOf, type Packet, type PacketMeta } from '../src/packet.js';
import { decodeChunks } from './frame-driver.js';
import { concatBytes, readAll, readableFrom, splitAt } from './web-stream-io.js';

async function encodeAll(packets: readonly Packet[], maxFrameSize?: number): Promise<Uint8Array[]> {
  return readAll(readableFrom(packets).pipeThrough(encodeFrames(maxFrameSize === undefined ? {} : { maxFrameSize })));
}

function bytesOf(length: number, seed = 1): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** A frame with a hand-made body (any msgpack value). */
function frameOf(body: Uint8Array): Uint8Array {
  const f = new Uint8Array(4 + body.length);
  new DataView(f.buffer).setUint32(0, body.length, false);
  f.set(body, 4);
  return f;
}

function plain(p: Packet): object {
  return { data: [...p.data], queue: p.queue, virtioHeader: p.virtioHeader, timestamp: p.timestamp, meta: p.meta };
}

const HDR = { flags: 1, gsoType: 1, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16 };

t.test('round trip keeps bytes, queue, virtio header, timestamp and meta', async (t) => {
  const rows: Array<[string, Uint8Array, PacketMeta]> = [
    ['empty packet', new Uint8Array(0), {}],
    ['1 byte', bytesOf(1), { queue: 1 }],
    ['1500 bytes on queue 7', bytesOf(1500), { queue: 7 }],
    ['64 KB superpacket with header', bytesOf(65535), { virtioHeader: HDR }],
    ['70000 bytes', bytesOf(70000), {}],
    ['max queue', bytesOf(20), { queue: 0xffff_ffff }],
    ['timestamp 0', bytesOf(20), { timestamp: 0n }],
    ['timestamp now', bytesOf(20), { timestamp: 1_760_000_000_123_456_789n }],
    ['timestamp u64 max', bytesOf(20), { timestamp: (1n << 64n) - 1n }],
    ['meta string', bytesOf(3), { meta: 'from-a' }],
    ['meta object', bytesOf(3), { meta: { flow: 'x', n: [1, 2, 3], nested: { ok: true } } }],
    ['meta null', bytesOf(3), { meta: null }],
    ['everything', bytesOf(200), { queue: 3, virtioHeader: HDR, timestamp: 42n, meta: { id: 9 } }],
  ];
  const packets = rows.map(([, data, meta]) => packetOf(data, meta));
  const frames = await encodeAll(packets);
  t.equal(frames.length, rows.length, 'one frame per packet');
  const run = await decodeChunks(frames);
  t.equal(run.error, undefined);
  t.equal(run.packets.length, rows.length);
  for (let i = 0; i < rows.length; i++) {
    t.same(plain(run.packets[i]!), plain(packets[i]!), rows[i]![0]);
  }
  t.same(
    { frames: run.stats.frames, bytes: run.stats.bytes, buffered: run.stats.buffered },
    { frames: rows.length, bytes: frames.reduce((n, f) => n + f.length, 0), buffered: 0 },
  );
});

t.test('wire format: u32 BE length, then the msgpack map {v, d, q}', async (t) => {
  const [frame] = await encodeAll([packetOf(new Uint8Array([0xde, 0xad]), { queue: 3 })]);
  // prefix 13; fixmap(3) "v" 1 "d" bin8(2) de ad "q" 3
  t.same(
    [...frame!],
    [0, 0, 0, 13, 0x83, 0xa1, 0x76, 0x01, 0xa1, 0x64, 0xc4, 0x02, 0xde, 0xad, 0xa1, 0x71, 0x03],
  );
  const [full] = await encodeAll([packetOf(new Uint8Array([1]), { queue: 0, virtioHeader: HDR, timestamp: 5n, meta: 'm' })]);
  const body = msgpackDecode(full!.subarray(4), { useBigInt64: true });
  t.same(body, { v: 1, d: new Uint8Array([1]), q: 0, h: [1, 1, 66, 1448, 34, 16], t: 5n, m: 'm' });
});

t.test('decodes frames from another msgpack writer (other int widths, unknown keys)', async (t) => {
  const bodies = [
    msgpackEncode({ q: 2, d: new Uint8Array([9, 9]), v: 1 }), // other key order
    msgpackEncode({ v: 1, d: new Uint8Array([7]), q: 1, extra: 'ignored', t: 1000 }), // t as small int
    msgpackEncode({ v: 1, d: new Uint8Array([8]), q: 65536, h: [0, 0, 0, 0, 0, 0] }),
  ];
  const run = await decodeChunks(bodies.map(frameOf));
  t.equal(run.error, undefined);
  t.same(run.packets.map(plain), [
    { data: [9, 9], queue: 2, virtioHeader: undefined, timestamp: undefined, meta: undefined },
    { data: [7], queue: 1, virtioHeader: undefined, timestamp: 1000n, meta: undefined },
    { data: [8], queue: 65536, virtioHeader: { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 }, timestamp: undefined, meta: undefined },
  ]);
});

/** Naive oracle: JSON text shows a `"__proto__":` key (escaped quotes inside strings never match). */
function hasProtoKey(meta: unknown): boolean {
  return /(^|[^\\])"__proto__":/.test(JSON.stringify(meta) ?? '');
}

const arbMeta = fc.jsonValue({ maxDepth: 2 });

const arbPacket = fc
  .record({
    data: fc.uint8Array({ maxLength: 3000 }),
    queue: fc.nat({ max: 0xffff_ffff }),
    ts: fc.option(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { nil: undefined }),
    meta: fc.option(arbMeta.filter((m) => !hasProtoKey(m)), { nil: undefined }),
    hdr: fc.option(
      fc.record({
        flags: fc.nat({ max: 0xff }),
        gsoType: fc.nat({ max: 0xff }),
        hdrLen: fc.nat({ max: 0xffff }),
        gsoSize: fc.nat({ max: 0xffff }),
        csumStart: fc.nat({ max: 0xffff }),
        csumOffset: fc.nat({ max: 0xffff }),
      }),
      { nil: undefined },
    ),
  })
  .map((r) => packetOf(r.data, { queue: r.queue, timestamp: r.ts, meta: r.meta, virtioHeader: r.hdr }));

t.test('property: any split of an encoded stream decodes to the same packets', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(arbPacket, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), async (packets, cuts) => {
      const stream = concatBytes(await encodeAll(packets));
      const chunks = splitAt(stream, cuts.map((c) => (stream.length === 0 ? 0 : c % (stream.length + 1))));
      const run = await decodeChunks(chunks);
      if (run.error !== undefined) throw run.error;
      // -0 and 0 are one msgpack integer; compare through JSON-ish plain values
      t.same(run.packets.map(plain), packets.map(plain));
      return run.packets.length === packets.length;
    }),
    { numRuns: 150 },
  );
});

t.test('property: metadata is refused exactly when it holds a "__proto__" key', async (t) => {
  const withProto = arbMeta.map((m) => JSON.parse(`{"__proto__":${JSON.stringify(m)},"k":${JSON.stringify(m)}}`) as unknown);
  await fc.assert(
    fc.asyncProperty(fc.oneof(arbMeta, withProto, fc.array(withProto, { maxLength: 2 })), async (meta) => {
      const refused = await encodeAll([packetOf(bytesOf(3), { meta })]).then(
        () => false,
        (e: unknown) => isTunError(e, 'ERR_TUN_FRAME_UNENCODABLE'),
      );
      t.equal(refused, hasProtoKey(meta));
      return refused === hasProtoKey(meta);
    }),
    { numRuns: 200 },
  );
  t.ok(hasProtoKey(JSON.parse('{"__proto__":1}')) && !hasProtoKey({ a: '"__proto__":' }), 'the oracle itself');
});

t.test('one byte at a time: buffering never exceeds maxFrameSize + 4', async (t) => {
  const maxFrameSize = 600;
  const packets = [bytesOf(0), bytesOf(100), bytesOf(580), bytesOf(1)].map((d) => packetOf(d));
  const stream = concatBytes(await encodeAll(packets, maxFrameSize));
  const chunks = [...stream].map((b) => new Uint8Array([b]));
  const run = await decodeChunks(chunks, { maxFrameSize });
  t.equal(run.error, undefined);
  t.equal(run.packets.length, 4);
  t.ok(run.maxBuffered <= maxFrameSize + 4, `held at most ${run.maxBuffered} bytes`);
  t.ok(run.maxBuffered >= 580, 'a split frame is assembled (buffer of its body length)');
});

t.test('oversized is decided from the prefix, before any body byte arrives', async (t) => {
  // Error mode: the prefix alone fails the stream.
  const prefix = new Uint8Array([0x00, 0x01, 0x00, 0x01]); // 65537
  const run = await decodeChunks([prefix], { maxFrameSize: 65536 });
  t.ok(isTunError(run.error, 'ERR_TUN_FRAME_TOO_LARGE'), String(run.error));
  t.equal(run.maxBuffered, 0, 'nothing buffered for it');

  // Skip mode: a 4 GiB declaration is skipped as it streams by, holding nothing.
  const huge = new Uint8Array([0xff, 0xff, 0xff, 0xf0]);
  const junk = new Uint8Array(1 << 20).fill(0xc1);
  const skipping = await decodeChunks([huge, ...Array.from({ length: 16 }, () => junk)], { onError: 'skip' });
  t.equal(skipping.maxBuffered, 0, 'skipping buffers nothing');
  t.equal(skipping.stats.skippedOversized, 1);
  t.ok(isTunError(skipping.error, 'ERR_TUN_FRAME_TRUNCATED'), 'input ended mid-skip: truncated');
});

t.test('skip mode resynchronises after oversized and malformed frames', async (t) => {
  const [good1, good2] = await encodeAll([packetOf(bytesOf(10, 1)), packetOf(bytesOf(20, 2))]);
  const oversized = frameOf(bytesOf(300)); // body of 300 > maxFrameSize 256
  const notMsgpack = frameOf(new Uint8Array([0xc1, 0xc1]));
  const wrongVersion = frameOf(msgpackEncode({ v: 2, d: new Uint8Array(1), q: 0 }));
  const stream = concatBytes([good1!, oversized, notMsgpack, good2!, wrongVersion, good1!]);
  const run = await decodeChunks(splitAt(stream, [3, 17, 100, 333, 340]), { maxFrameSize: 256, onError: 'skip' });
  t.equal(run.error, undefined);
  t.same(run.packets.map((p) => p.data.length), [10, 20, 10]);
  t.same({ over: run.stats.skippedOversized, bad: run.stats.skippedMalformed, frames: run.stats.frames }, { over: 1, bad: 2, frames: 3 });
});

t.test('truncated input errors in both modes', async (t) => {
  const [frame] = await encodeAll([packetOf(bytesOf(50))]);
  const rows: Array<[string, Uint8Array]> = [
    ['inside the prefix', frame!.subarray(0, 2)],
    ['right after the prefix', frame!.subarray(0, 4)],
    ['inside the body', frame!.subarray(0, 30)],
    ['one byte short', frame!.subarray(0, frame!.length - 1)],
  ];
  for (const [name, bytes] of rows) {
    for (const onError of ['error', 'skip'] as const) {
      const run = await decodeChunks([bytes], { onError });
      t.ok(isTunError(run.error, 'ERR_TUN_FRAME_TRUNCATED'), `${name}, ${onError}: ${String(run.error)}`);
    }
  }
  const clean = await decodeChunks([frame!, frame!]);
  t.equal(clean.error, undefined, 'ending exactly between frames is a clean end');
});

t.test('malformed bodies: ERR_TUN_FRAME_MALFORMED, or skipped in skip mode', async (t) => {
  const d = new Uint8Array([1, 2]);
  const rows: Array<[string, Uint8Array]> = [
    ['empty body', new Uint8Array(0)],
    ['unused type byte 0xc1', new Uint8Array([0xc1])],
    ['not a map (array)', msgpackEncode([1, d, 0])],
    ['not a map (bin)', msgpackEncode(d)],
    ['nil', msgpackEncode(null)],
    ['missing v', msgpackEncode({ d, q: 0 })],
    ['v = 2', msgpackEncode({ v: 2, d, q: 0 })],
    ['missing d', msgpackEncode({ v: 1, q: 0 })],
    ['d is a string', msgpackEncode({ v: 1, d: 'abc', q: 0 })],
    ['missing q', msgpackEncode({ v: 1, d })],
    ['q negative', msgpackEncode({ v: 1, d, q: -1 })],
    ['q fractional', msgpackEncode({ v: 1, d, q: 1.5 })],
    ['q above u32', msgpackEncode({ v: 1, d, q: 2 ** 32 })],
    ['h too short', msgpackEncode({ v: 1, d, q: 0, h: [0, 0, 0, 0, 0] })],
    ['h flags above u8', msgpackEncode({ v: 1, d, q: 0, h: [256, 0, 0, 0, 0, 0] })],
    ['h gso_size above u16', msgpackEncode({ v: 1, d, q: 0, h: [0, 0, 0, 65536, 0, 0] })],
    ['h not an array', msgpackEncode({ v: 1, d, q: 0, h: 'x' })],
    ['t negative', msgpackEncode({ v: 1, d, q: 0, t: -5 })],
    ['t a string', msgpackEncode({ v: 1, d, q: 0, t: '5' })],
    ['trailing byte', concatBytes([msgpackEncode({ v: 1, d, q: 0 }), new Uint8Array([0])])],
    ['map cut short', msgpackEncode({ v: 1, d, q: 0 }).subarray(0, 8)],
    ['__proto__ key', new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x01])],
    ['nested array bomb', new Uint8Array(Array.from({ length: 3000 }, () => [0xdc, 0xff, 0xfe]).flat())],
  ];
  const [good] = await encodeAll([packetOf(bytesOf(5))]);
  for (const [name, body] of rows) {
    const failing = await decodeChunks([frameOf(body)]);
    t.ok(isTunError(failing.error, 'ERR_TUN_FRAME_MALFORMED'), `${name}: ${String(failing.error)}`);
    const skipping = await decodeChunks([good!, frameOf(body), good!], { onError: 'skip' });
    t.same(
      { error: skipping.error, packets: skipping.packets.length, bad: skipping.stats.skippedMalformed },
      { error: undefined, packets: 2, bad: 1 },
      `${name} skipped`,
    );
  }
});

t.test('encoder refuses what the decoder would refuse', async (t) => {
  const rows: Array<[string, Packet, string, number?]> = [
    ['body above maxFrameSize', packetOf(bytesOf(300)), 'ERR_TUN_FRAME_TOO_LARGE', 256],
    ['default limit', packetOf(bytesOf(DEFAULT_MAX_FRAME_SIZE)), 'ERR_TUN_FRAME_TOO_LARGE'],
    ['function in meta', packetOf(bytesOf(3), { meta: { f: () => 1 } }), 'ERR_TUN_FRAME_UNENCODABLE'],
    // fast-check seed 1062522503: the decoder refuses this key, so the encoder must too
    ['"__proto__" key in meta', packetOf(bytesOf(3), { meta: JSON.parse('{"__proto__":1}') }), 'ERR_TUN_FRAME_UNENCODABLE'],
    ['nested "__proto__" key', packetOf(bytesOf(3), { meta: JSON.parse('{"a":[{"__proto__":{}}]}') }), 'ERR_TUN_FRAME_UNENCODABLE'],
    ['"__proto__" key in a Map', packetOf(bytesOf(3), { meta: new Map([['__proto__', 1]]) }), 'ERR_TUN_FRAME_UNENCODABLE'],
    ['negative timestamp', packetOf(bytesOf(3), { timestamp: -1n }), 'ERR_TUN_FRAME_UNENCODABLE'],
    ['timestamp beyond u64', packetOf(bytesOf(3), { timestamp: 1n << 64n }), 'ERR_TUN_FRAME_UNENCODABLE'],
    ['header field out of range', packetOf(bytesOf(3), { virtioHeader: { ...HDR, gsoSize: 70000 } }), 'ERR_TUN_FRAME_UNENCODABLE'],
    ['queue above u32', { ...packetOf(bytesOf(3)), queue: 2 ** 32 } as Packet, 'ERR_TUN_FRAME_UNENCODABLE'],
  ];
  for (const [name, packet, code, max] of rows) {
    await t.rejects(encodeAll([packet], max), { code }, name);
  }
  await t.resolves(encodeAll([packetOf(bytesOf(DEFAULT_MAX_FRAME_SIZE - 64))]), 'just under the default limit');
});

t.test('options are checked', async (t) => {
  t.throws(() => encodeFrames({ maxFrameSize: 0 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => encodeFrames({ maxFrameSize: 2 ** 32 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  const { decodeFrames } = await import('../src/frame-decoder.js');
  t.throws(() => decodeFrames({ maxFrameSize: 1.5 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  t.throws(() => decodeFrames({ onError: 'ignore' as 'skip' }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
  const run = await decodeChunks(['not bytes' as unknown as Uint8Array]);
  t.ok(isTunError(run.error, 'ERR_TUN_INVALID_ARGUMENT'), 'non-byte chunks are refused');
});
