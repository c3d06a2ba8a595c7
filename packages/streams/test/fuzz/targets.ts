/**
 * The streams fuzz entry points:
 * - `decodeFrames`: a framed byte stream (mutated seed streams, random bytes, msgpack
 *   type bytes planted anywhere), cut into random chunks, through the stream decoder
 *   in both error modes. Oracle: the same stream walked frame by frame in one piece
 *   (prefix, then one body decode each) must give the same packets, counters and
 *   error; at most `maxFrameSize + 4` bytes are ever buffered.
 * - `frameBody`: one msgpack body through `FrameBodyCodec.decodeBody`; a body it
 *   accepts must encode again and decode to the same packet (a relay can forward
 *   whatever it received).
 * - `encodeFrame`: packets with random (sometimes out-of-range) queue, virtio
 *   header, timestamp and `meta` (every msgpack type, types msgpack lacks,
 *   "__proto__" and other hostile keys, cycles) through `FrameBodyCodec.encodeFrame`:
 *   refused with FRAME_UNENCODABLE / FRAME_TOO_LARGE, or decodable to the same packet
 *   (bigints and Dates in `meta` exactly, the rest stable after one round).
 * - `parseHeaders`: mutated IP packets and Ethernet frames (and random bytes, and
 *   the wrong link type) through `tryParsePacket`: never throws; exactly one of
 *   parsed / malformed / nonIp counted, each malformed one reported with a
 *   TunError; parsed headers answer every getter inside the packet, and flow
 *   keys and protocol filters work on them.
 * - `pcapWriter`: packets of odd, zero, snaplen +/- 1 and huge sizes, with random
 *   options and timestamps, through `write`, `tryWrite` and `pcapTap`, into an
 *   in-memory sink (sometimes a slow one). Oracle: an independent pcap-savefile(5)
 *   parser reads back exactly the records and counters the writer reported.
 * - `openTunOptions`: random configurations through `checkTunOptions`, each value
 *   labelled with its expected verdict (open-tun-options-target.ts).
 * Only TunErrors with the codes listed per target may escape; hangs are the
 * supervisor's to catch.
 */
import { isDeepStrictEqual } from 'node:util';
import { openTunOptionsTarget } from './open-tun-options-target.js';
import { isTunError } from '@tunpipe/offload';
import { invariant, FuzzInvariantError, mutateBytes, type FuzzTarget, type Prng } from '@tunpipe/testkit';
import { StreamErrorCode } from '../../src/error-codes.js';
import { FRAME_PREFIX_LEN, FrameBodyCodec } from '../../src/frame-format.js';
import { PacketView, type Packet } from '../../src/packet.js';
import { flowKeyOf } from '../../src/flow-key.js';
import { parseCounters, tryParsePacket } from '../../src/packet-headers.js';
import { headersMatch } from '../../src/protocol-filter.js';
import { pcapTap } from '../../src/pcap-tap.js';
import {
  PCAP_GLOBAL_HEADER_LEN,
  PCAP_MAGIC_MICROS,
  PCAP_MAGIC_NANOS,
  PCAP_MAX_SNAPLEN,
  PCAP_RECORD_HEADER_LEN,
  PcapWriter,
  type PcapWriterStats,
} from '../../src/pcap-writer.js';
import { decodeChunks } from '../frame-driver.js';
import { readAll, readableFrom, splitAt } from '../web-stream-io.js';
import type { PcapCase, StreamsCorpus } from './seeds.js';

/** Byte offsets worth hitting in a frame: the length prefix and the first body bytes (map header, keys). */
const FRAME_FIELDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
/** msgpack format bytes that change how what follows is read (msgpack spec, "Formats"). */
const MSGPACK_TYPE_BYTES = [0x80, 0x81, 0x8f, 0x90, 0x96, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];

/** Plants msgpack type bytes (and sometimes a large 16/32-bit count after them). */
function plantMsgpackTypes(rng: Prng, b: Uint8Array): Uint8Array {
  const out = b.slice();
  const n = rng.range(1, 3);
  for (let k = 0; k < n && out.length > 0; k++) {
    const at = rng.int(out.length);
    out[at] = rng.pick(MSGPACK_TYPE_BYTES);
    if (rng.chance(0.3) && at + 2 < out.length) {
      out[at + 1] = rng.pick([0x00, 0x7f, 0xff]);
      out[at + 2] = rng.pick([0x00, 0x01, 0xfe, 0xff]);
    }
  }
  return out;
}

/** A framed byte stream: a seed, mutated, spliced, with planted type bytes or rewritten prefixes; or random bytes. */
function generateStream(rng: Prng, corpus: StreamsCorpus): Uint8Array {
  if (rng.chance(0.08)) return rng.bytes(rng.int(300));
  let bytes = rng.pick(corpus.frameStreams);
  const kind = rng.int(8);
  if (kind === 0) return bytes.slice();
  if (kind >= 6) return reframe(rng, bytes, corpus);
  if (kind <= 3) bytes = mutateBytes(rng, bytes, corpus.frameStreams, 0, FRAME_FIELDS);
  if (kind === 4 || rng.chance(0.3)) bytes = plantMsgpackTypes(rng, bytes);
  if (kind === 5 && bytes.length >= FRAME_PREFIX_LEN) {
    // A length prefix that lies: slightly off, zero, or huge.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const declared = view.getUint32(0);
    view.setUint32(0, rng.pick([0, 1, declared - 1, declared + 1, declared + 4, 0x7fff_ffff, 0xffff_ffff].map((v) => v >>> 0)));
  }
  return bytes;
}

/** The frames of a well-formed stream, one body mutated and its prefix rewritten to match (the stream stays in sync). */
function reframe(rng: Prng, bytes: Uint8Array, corpus: StreamsCorpus): Uint8Array {
  const bodies: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 0; pos + FRAME_PREFIX_LEN <= bytes.length; ) {
    const length = view.getUint32(pos);
    bodies.push(bytes.subarray(pos + FRAME_PREFIX_LEN, pos + FRAME_PREFIX_LEN + length));
    pos += FRAME_PREFIX_LEN + length;
  }
  const k = rng.int(bodies.length);
  bodies[k] = rng.chance(0.5) ? mutateBytes(rng, bodies[k]!, corpus.frameStreams) : plantMsgpackTypes(rng, bodies[k]!);
  const out = new Uint8Array(bodies.reduce((n, b) => n + FRAME_PREFIX_LEN + b.length, 0));
  const outView = new DataView(out.buffer);
  let at = 0;
  for (const b of bodies) {
    outView.setUint32(at, b.length);
    out.set(b, at + FRAME_PREFIX_LEN);
    at += FRAME_PREFIX_LEN + b.length;
  }
  return out;
}

/** What the one-piece walk of a framed stream gives. */
interface FrameOracle {
  packets: Packet[];
  error: string | undefined;
  skippedOversized: number;
  skippedMalformed: number;
}

/** Walks `bytes` frame by frame in one piece, decoding each body on its own. */
function walkFrames(bytes: Uint8Array, maxFrameSize: number, skip: boolean, codec: FrameBodyCodec): FrameOracle {
  const out: FrameOracle = { packets: [], error: undefined, skippedOversized: 0, skippedMalformed: 0 };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < FRAME_PREFIX_LEN) return { ...out, error: StreamErrorCode.FRAME_TRUNCATED };
    const length = view.getUint32(pos);
    pos += FRAME_PREFIX_LEN;
    if (length > maxFrameSize) {
      if (!skip) return { ...out, error: StreamErrorCode.FRAME_TOO_LARGE };
      out.skippedOversized++;
      if (bytes.length - pos < length) return { ...out, error: StreamErrorCode.FRAME_TRUNCATED };
      pos += length;
      continue;
    }
    if (bytes.length - pos < length) return { ...out, error: StreamErrorCode.FRAME_TRUNCATED };
    try {
      out.packets.push(codec.decodeBody(bytes.slice(pos, pos + length)));
    } catch (err) {
      invariant((err as { code?: unknown }).code === StreamErrorCode.FRAME_MALFORMED, `body decode threw ${String(err)}`);
      if (!skip) return { ...out, error: StreamErrorCode.FRAME_MALFORMED };
      out.skippedMalformed++;
    }
    pos += length;
  }
  return out;
}

/** True when two packets carry the same bytes and fields. */
function samePacket(a: Packet, b: Packet): boolean {
  return (
    Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(b.data) &&
    a.queue === b.queue &&
    a.timestamp === b.timestamp &&
    isDeepStrictEqual(a.virtioHeader, b.virtioHeader) &&
    isDeepStrictEqual(a.meta, b.meta)
  );
}

const FRAME_CODES = [StreamErrorCode.FRAME_TOO_LARGE, StreamErrorCode.FRAME_TRUNCATED, StreamErrorCode.FRAME_MALFORMED];

/** One oracle codec per worker, per max size (the codec keeps no state between bodies). */
const oracleCodecs = new Map<number, FrameBodyCodec>();

const decodeFramesTarget: FuzzTarget<StreamsCorpus> = {
  name: 'decodeFrames',
  codes: FRAME_CODES,
  async run(rng, corpus, input) {
    const bytes = generateStream(rng, corpus);
    input.bytes = bytes;
    const maxFrameSize = rng.chance(0.7) ? 256 * 1024 : rng.pick([1, 7, 16, 64, 300, 2048, 10_000]);
    const onError = rng.chance(0.5) ? 'error' : 'skip';
    const cuts = Array.from({ length: rng.int(9) }, () => rng.int(bytes.length + 1));
    if (rng.chance(0.1)) for (let i = 0; i < bytes.length; i += 1 + rng.int(3)) cuts.push(i); // byte-sized chunks
    input.note = JSON.stringify({ maxFrameSize, onError, cuts: cuts.length > 12 ? `${cuts.length} cuts` : cuts });
    let codec = oracleCodecs.get(maxFrameSize);
    if (codec === undefined) oracleCodecs.set(maxFrameSize, (codec = new FrameBodyCodec(maxFrameSize)));
    const expected = walkFrames(bytes, maxFrameSize, onError === 'skip', codec);
    const run = await decodeChunks(splitAt(bytes, cuts), { maxFrameSize, onError });
    invariant(run.maxBuffered <= maxFrameSize + FRAME_PREFIX_LEN, `buffered ${run.maxBuffered} bytes with maxFrameSize ${maxFrameSize}`);
    const code = (run.error as { code?: string } | undefined)?.code;
    invariant(code === expected.error, `stream ended with ${String(run.error)}, the one-piece walk with ${String(expected.error)}`);
    // An erroring stream may lose packets still queued in its readable side: a prefix must arrive.
    if (expected.error === undefined) invariant(run.packets.length === expected.packets.length, `${run.packets.length} packets, expected ${expected.packets.length}`);
    else invariant(run.packets.length <= expected.packets.length, `${run.packets.length} packets, at most ${expected.packets.length} expected`);
    run.packets.forEach((p, i) => invariant(samePacket(p, expected.packets[i]!), `packet ${i} differs from the one-piece decode`));
    if (onError === 'skip') {
      invariant(run.stats.skippedMalformed === expected.skippedMalformed, `skippedMalformed ${run.stats.skippedMalformed}, expected ${expected.skippedMalformed}`);
      invariant(run.stats.skippedOversized === expected.skippedOversized, `skippedOversized ${run.stats.skippedOversized}, expected ${expected.skippedOversized}`);
      invariant(run.stats.frames === expected.packets.length, `frames ${run.stats.frames}, expected ${expected.packets.length}`);
    }
    invariant(run.stats.bytes === bytes.length || run.error !== undefined, `consumed ${run.stats.bytes} of ${bytes.length} bytes`);
    if (run.error !== undefined) throw run.error;
  },
};

const BODY_MAX = 256 * 1024;
let bodyCodec: FrameBodyCodec | undefined;

const frameBodyTarget: FuzzTarget<StreamsCorpus> = {
  name: 'frameBody',
  codes: [StreamErrorCode.FRAME_MALFORMED],
  run(rng, corpus, input) {
    bodyCodec ??= new FrameBodyCodec(BODY_MAX);
    // A body: the first frame of a seed stream without its prefix, mutated; or random bytes.
    const seed = rng.pick(corpus.frameStreams);
    const first = seed.subarray(FRAME_PREFIX_LEN, FRAME_PREFIX_LEN + new DataView(seed.buffer, seed.byteOffset).getUint32(0));
    let body: Uint8Array;
    const kind = rng.int(10);
    if (kind === 0) body = rng.bytes(rng.int(64));
    else if (kind === 1) body = first.slice();
    else {
      body = mutateBytes(rng, first, corpus.frameStreams, 0, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
      if (rng.chance(0.4)) body = plantMsgpackTypes(rng, body);
    }
    input.bytes = body;
    const packet = bodyCodec.decodeBody(body);
    invariant(packet.data instanceof Uint8Array, 'data is bytes');
    invariant(Number.isInteger(packet.queue) && packet.queue >= 0 && packet.queue <= 0xffff_ffff, `queue ${packet.queue}`);
    invariant(packet.timestamp === undefined || (packet.timestamp >= 0n && packet.timestamp < 1n << 64n), `timestamp ${String(packet.timestamp)}`);
    let again: Packet;
    try {
      const frame = bodyCodec.encodeFrame(packet, 4 * BODY_MAX);
      again = bodyCodec.decodeBody(frame.subarray(FRAME_PREFIX_LEN));
    } catch (err) {
      throw new FuzzInvariantError(`an accepted body does not encode and decode again: ${String(err)}`);
    }
    invariant(samePacket(packet, again), 'decode(encode(decode(body))) differs from decode(body)');
  },
};

/** Keys a hostile or careless application may put in `meta`. */
const META_KEYS = ['a', 'x', '', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '0', '1e3', '\u{1f600}', 'k'.repeat(40)];

/** A random `meta` value: scalars of every msgpack type and some it lacks, containers, rarely a cycle. */
function randomMeta(rng: Prng, depth: number): unknown {
  const r = rng.int(depth > 2 ? 14 : 18);
  switch (r) {
    case 0: return null;
    case 1: return undefined;
    case 2: return rng.chance(0.5);
    case 3: return rng.range(-1000, 1000);
    case 4: return rng.pick([Number.NaN, Infinity, -Infinity, -0, 2 ** 53, -(2 ** 63), 1.5, 2 ** 64]);
    case 5: return rng.pick([0n, -1n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, 1n << 64n, -(1n << 63n) - 1n]);
    case 6: return String.fromCharCode(...Array.from({ length: rng.int(12) }, () => rng.int(0x10000)));
    case 7: return rng.bytes(rng.int(40));
    case 8: return new Date(rng.pick([0, -1, 1.7e12, 8.64e15, Number.NaN]));
    case 9: return rng.pick([() => 1, Symbol('s'), new Map([[1, 2]]), new Set([1]), new Int16Array(3), /x/]);
    case 10: return rng.pick(META_KEYS);
    case 11: return rng.next();
    case 12: return rng.bytes(3).buffer;
    case 13: return { [rng.pick(META_KEYS)]: rng.int(9) };
    default: {
      if (rng.chance(0.5)) return Array.from({ length: rng.int(4) }, () => randomMeta(rng, depth + 1));
      const o: Record<string, unknown> = {};
      const n = rng.int(4);
      for (let k = 0; k < n; k++) Object.defineProperty(o, rng.pick(META_KEYS), { value: randomMeta(rng, depth + 1), enumerable: true, configurable: true, writable: true });
      if (rng.chance(0.03)) o.self = o;
      return o;
    }
  }
}

/** True when every bigint and Date in `a` comes back as the same value at the same place in `b`. */
function sameScalars(a: unknown, b: unknown, depth = 0): boolean {
  if (depth > 8) return true; // cycles are refused before this matters
  if (typeof a === 'bigint') return a === b;
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (Array.isArray(a)) return Array.isArray(b) && a.every((x, i) => sameScalars(x, b[i], depth + 1));
  if (a !== null && typeof a === 'object' && !ArrayBuffer.isView(a) && b !== null && typeof b === 'object') {
    return Object.keys(a).every((k) => sameScalars((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1));
  }
  return true;
}

const U16_EDGES = [0, 1, 0xffff, 0x10000, -1, 1.5, Number.NaN];
const encodeFrameTarget: FuzzTarget<StreamsCorpus> = {
  name: 'encodeFrame',
  codes: [StreamErrorCode.FRAME_UNENCODABLE, StreamErrorCode.FRAME_TOO_LARGE],
  run(rng, _corpus, input) {
    bodyCodec ??= new FrameBodyCodec(BODY_MAX);
    const data = rng.bytes(rng.chance(0.05) ? rng.range(BODY_MAX - 64, BODY_MAX + 64) : rng.int(300));
    const queue = rng.chance(0.85) ? rng.int(8) : rng.pick([-1, 0.5, 0xffff_ffff, 2 ** 32, Number.NaN, 2 ** 53]);
    const field = (max: number) => (rng.chance(0.9) ? rng.int(max + 1) : rng.pick(U16_EDGES));
    const hdr = rng.chance(0.3)
      ? { flags: field(0xff), gsoType: field(0xff), hdrLen: field(0xffff), gsoSize: field(0xffff), csumStart: field(0xffff), csumOffset: field(0xffff) }
      : undefined;
    const timestamp = rng.chance(0.5) ? undefined : rng.pick([0n, 1n, (1n << 64n) - 1n, 1n << 64n, -1n, BigInt(rng.next()) << 20n]);
    const meta = rng.chance(0.3) ? undefined : randomMeta(rng, 0);
    input.bytes = data;
    input.note = `queue ${queue}, hdr ${JSON.stringify(hdr)}, t ${String(timestamp)}, meta ${typeof meta}`;
    const frame = bodyCodec.encodeFrame(new PacketView(data, queue, hdr, timestamp, meta), BODY_MAX);
    // Encoded: it must decode to the same packet, and survive another round unchanged.
    invariant(new DataView(frame.buffer, frame.byteOffset).getUint32(0) === frame.length - FRAME_PREFIX_LEN, 'length prefix');
    let back: Packet;
    try {
      back = bodyCodec.decodeBody(frame.slice(FRAME_PREFIX_LEN));
    } catch (err) {
      throw new FuzzInvariantError(`an encoded frame does not decode: ${String(err)}`);
    }
    invariant(Buffer.from(back.data).equals(data) && back.queue === queue, 'data and queue');
    invariant(isDeepStrictEqual(back.virtioHeader, hdr), 'virtio header');
    invariant(back.timestamp === timestamp, 'timestamp');
    const again = bodyCodec.decodeBody(bodyCodec.encodeFrame(back, BODY_MAX).slice(FRAME_PREFIX_LEN));
    invariant(sameScalars(meta, back.meta), 'a bigint or Date in meta came back changed');
    invariant(samePacket(back, again), 'a decoded packet does not encode to itself');
  },
};

/** Offsets of the fields header parsing reads: Ethernet type, IP version/IHL/lengths/protocol/fragment, L4 offsets. */
const HEADER_FIELDS = [0, 2, 3, 4, 5, 6, 7, 9, 12, 13, 14, 15, 16, 17, 20, 21, 24, 26, 32, 33, 40, 41, 44, 46, 52, 54];

const parseHeadersTarget: FuzzTarget<StreamsCorpus> = {
  name: 'parseHeaders',
  codes: [],
  run(rng, corpus, input) {
    const seed = rng.pick(corpus.packets);
    const link = rng.chance(0.9) ? seed.link : seed.link === 'ip' ? 'ethernet' : 'ip';
    const bytes = rng.chance(0.1) ? rng.bytes(rng.int(80)) : rng.chance(0.15) ? seed.bytes.slice() : mutateBytes(rng, seed.bytes, corpus.packets.map((p) => p.bytes), 0, HEADER_FIELDS);
    input.bytes = bytes;
    input.note = `link ${link}`;
    const packet = new PacketView(bytes);
    const counters = parseCounters();
    let reported: unknown;
    let reports = 0;
    const headers = tryParsePacket(packet, link, counters, (_, err) => {
      reported = err;
      reports++;
    });
    invariant(counters.parsed + counters.malformed + counters.nonIp === 1, `one counter per packet: ${JSON.stringify(counters)}`);
    invariant(reports === counters.malformed && (reports === 0 || isTunError(reported)), 'each malformed packet reported once, with a TunError');
    if (headers === undefined) return;
    // Parsed: every header getter answers, and the views lie inside the packet.
    for (const view of [headers.ethernet, headers.ip, headers.tcp, headers.udp, headers.icmpv4, headers.icmpv6]) {
      if (view === undefined) continue;
      const proto = Object.getPrototypeOf(view) as object;
      for (const key of Object.getOwnPropertyNames(proto)) {
        const get = Object.getOwnPropertyDescriptor(proto, key)?.get;
        if (get === undefined) continue;
        const value: unknown = get.call(view);
        if (typeof value === 'number') invariant(Number.isFinite(value) && value >= 0, `${view.constructor.name}.${key} = ${value}`);
        if (value instanceof Uint8Array && value.buffer === bytes.buffer) {
          invariant(value.byteOffset >= bytes.byteOffset && value.byteOffset + value.length <= bytes.byteOffset + bytes.length, `${view.constructor.name}.${key} outside the packet`);
        }
      }
    }
    invariant(typeof flowKeyOf(headers) === 'string' && typeof flowKeyOf(headers, { bidirectional: true }) === 'string', 'a flow key');
    invariant(typeof headersMatch(headers, { protocol: rng.pick(['tcp', 'udp', 'icmp', 47] as const), port: rng.int(65536) }) === 'boolean', 'a filter verdict');
  },
};

/** Bytes every pcap test packet is cut from (a pattern, so records can be checked byte by byte). */
const PATTERN = Uint8Array.from({ length: 1_300_000 }, (_, i) => (i * 31 + (i >>> 8)) & 0xff);

/** A pcap scenario: writer options, and each packet with its timestamp and the way it is written. */
export interface PcapScenario {
  options: { snaplen: number; bufferSize: number; precision: 'micro' | 'nano'; linkType: 'raw' | 'ethernet'; maxPendingBytes: number };
  packets: { size: number; timestamp: bigint | undefined; as: 'bytes' | 'packet'; via: 'write' | 'tryWrite' | 'flush' }[];
  /** Packets go through `pcapTap` (a pipeline) instead of direct calls. */
  tap: boolean;
  /** The sink waits a turn before accepting each chunk. */
  slowSink: boolean;
}

/** A scenario from a seed case: sizes jittered by one, extra odd and huge sizes, options nudged. */
export function pcapScenario(rng: Prng, corpus: StreamsCorpus): PcapScenario {
  const seed: PcapCase = rng.pick(corpus.pcapCases);
  const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
  const snaplen = rng.chance(0.7) ? seed.snaplen : clamp(seed.snaplen + rng.range(-3, 3), 1, PCAP_MAX_SNAPLEN);
  const bufferSize = rng.chance(0.7) ? seed.bufferSize : Math.max(PCAP_GLOBAL_HEADER_LEN, rng.pick([25, 40, 41, 1000, 65536, snaplen + 15, snaplen + 16, snaplen + 17]));
  let sizes = seed.sizes.map((s) => (rng.chance(0.3) ? Math.max(0, s + rng.range(-1, 1)) : s));
  const extra = rng.int(6);
  for (let k = 0; k < extra; k++) {
    const r = rng.int(20);
    sizes.push(r === 0 ? rng.range(262_000, 1_200_000) : r < 4 ? Math.max(0, snaplen + rng.range(-2, 2)) : r < 6 ? bufferSize - PCAP_RECORD_HEADER_LEN + rng.range(-1, 1) : rng.int(3000) | 1);
  }
  if (rng.chance(0.2)) sizes = sizes.slice(0, rng.int(sizes.length + 1));
  sizes = sizes.map((s) => clamp(s, 0, PATTERN.length));
  const maxPendingBytes = rng.chance(0.8) ? 16 * 1024 * 1024 : rng.pick([0, 1, 100, 70_000]);
  const TS = [0n, 1n, 999n, 1_000n, 999_999_999n, 1_000_000_000n, 1_700_000_000_123_456_789n, (1n << 32n) * 1_000_000_000n - 1n, (1n << 32n) * 1_000_000_000n, (1n << 64n) - 1n];
  const packets = sizes.map((size) => ({
    size,
    timestamp: rng.chance(0.2) ? undefined : rng.chance(0.5) ? rng.pick(TS) : (BigInt(rng.next()) << 30n) + BigInt(rng.next()),
    as: rng.chance(0.5) ? ('bytes' as const) : ('packet' as const),
    via: rng.chance(0.6) ? ('write' as const) : rng.chance(0.8) ? ('tryWrite' as const) : ('flush' as const),
  }));
  return {
    options: { snaplen, bufferSize, precision: rng.chance(0.5) ? seed.precision : rng.pick(['micro', 'nano'] as const), linkType: seed.linkType, maxPendingBytes },
    packets,
    tap: rng.chance(0.2),
    slowSink: rng.chance(0.2),
  };
}

/** The clock of packets written without a timestamp. */
const CLOCK_NS = 1_750_000_000_987_654_321n;

/** Writes a scenario into `writer`; returns what went in (sizes and timestamps) and what `tryWrite` dropped. */
export async function writePcapScenario(s: PcapScenario, writer: PcapWriter): Promise<{ written: { size: number; ts: bigint }[]; dropped: number }> {
  const written: { size: number; ts: bigint }[] = [];
  let dropped = 0;
  const item = (p: PcapScenario['packets'][number]) => {
    const data = PATTERN.subarray(0, p.size);
    return p.as === 'bytes' ? data : new PacketView(data, 0, undefined, p.timestamp);
  };
  if (s.tap) {
    const packets = s.packets.map((p) => new PacketView(PATTERN.subarray(0, p.size), 0, undefined, p.timestamp));
    const out = await readAll(readableFrom(packets).pipeThrough(pcapTap(writer)));
    invariant(out.length === packets.length && out.every((p, i) => p === packets[i]), 'pcapTap passes every packet on, in order');
    for (const p of s.packets) written.push({ size: p.size, ts: p.timestamp ?? CLOCK_NS });
    return { written, dropped };
  }
  for (const p of s.packets) {
    // A bare Uint8Array carries no timestamp: pass the scenario's explicitly half the time.
    const explicit = p.as === 'bytes' && p.timestamp !== undefined ? p.timestamp : undefined;
    if (p.via === 'tryWrite') {
      if (!writer.tryWrite(item(p), explicit)) {
        dropped++;
        continue;
      }
    } else {
      await writer.write(item(p), explicit);
      if (p.via === 'flush') await writer.flush();
    }
    written.push({ size: p.size, ts: p.timestamp ?? CLOCK_NS });
  }
  return { written, dropped };
}

/** The writer options of a scenario. */
export function pcapWriterOptions(s: PcapScenario): ConstructorParameters<typeof PcapWriter>[1] {
  return { ...s.options, clock: () => CLOCK_NS };
}

/** Reads a classic pcap file back (pcap-savefile(5)) and checks it against what was written. */
function checkPcap(file: Uint8Array, s: PcapScenario, written: readonly { size: number; ts: bigint }[], stats: PcapWriterStats, dropped: number): void {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const nano = s.options.precision === 'nano';
  invariant(file.length >= PCAP_GLOBAL_HEADER_LEN, 'file shorter than the global header');
  invariant(v.getUint32(0, true) === (nano ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS), 'magic');
  invariant(v.getUint16(4, true) === 2 && v.getUint16(6, true) === 4, 'version 2.4');
  invariant(v.getInt32(8, true) === 0 && v.getUint32(12, true) === 0, 'thiszone, sigfigs');
  invariant(v.getUint32(16, true) === s.options.snaplen, 'snaplen');
  invariant(v.getUint32(20, true) === (s.options.linkType === 'raw' ? 101 : 1), 'linktype');
  let pos = PCAP_GLOBAL_HEADER_LEN;
  let truncated = 0;
  for (let i = 0; i < written.length; i++) {
    const { size, ts } = written[i]!;
    invariant(file.length - pos >= PCAP_RECORD_HEADER_LEN, `record ${i}: header cut off at ${pos}`);
    const sec = v.getUint32(pos, true);
    const frac = v.getUint32(pos + 4, true);
    const incl = v.getUint32(pos + 8, true);
    const orig = v.getUint32(pos + 12, true);
    const expectedIncl = Math.min(size, s.options.snaplen);
    invariant(incl === expectedIncl && orig === size, `record ${i}: incl ${incl} orig ${orig} for ${size} bytes, snaplen ${s.options.snaplen}`);
    invariant(incl <= orig && incl <= PCAP_MAX_SNAPLEN, `record ${i}: incl_len within limits`);
    invariant(frac < (nano ? 1_000_000_000 : 1_000_000), `record ${i}: fraction ${frac}`);
    const seconds = ts / 1_000_000_000n;
    const ns = Number(ts % 1_000_000_000n);
    invariant(sec === Number(seconds & 0xffff_ffffn) && frac === (nano ? ns : Math.floor(ns / 1000)), `record ${i}: timestamp ${sec}.${frac} for ${ts} ns`);
    pos += PCAP_RECORD_HEADER_LEN;
    invariant(file.length - pos >= incl, `record ${i}: data cut off`);
    invariant(Buffer.from(file.buffer, file.byteOffset + pos, incl).equals(PATTERN.subarray(0, incl)), `record ${i}: data differs`);
    pos += incl;
    if (incl < size) truncated++;
  }
  invariant(pos === file.length, `${file.length - pos} bytes after the last record`);
  invariant(stats.packets === written.length && stats.bytes === file.length && stats.truncated === truncated && stats.dropped === dropped, `stats ${JSON.stringify(stats)} vs ${written.length} records, ${file.length} bytes, ${truncated} truncated, ${dropped} dropped`);
}

const pcapWriterTarget: FuzzTarget<StreamsCorpus> = {
  name: 'pcapWriter',
  codes: [],
  async run(rng, corpus, input) {
    const s = pcapScenario(rng, corpus);
    input.note = JSON.stringify({ ...s, packets: s.packets.map((p) => `${p.size}${p.via === 'write' ? '' : `:${p.via}`}`) }, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
    const chunks: Uint8Array[] = [];
    const sink = new WritableStream<Uint8Array>({
      async write(chunk) {
        if (s.slowSink) await new Promise((r) => setImmediate(r));
        chunks.push(chunk.slice());
      },
    });
    const writer = new PcapWriter(sink, pcapWriterOptions(s));
    const { written, dropped } = await writePcapScenario(s, writer);
    await writer.close();
    checkPcap(Buffer.concat(chunks), s, written, writer.stats(), dropped);
  },
};

/** Every streams entry point, in a stable order. */
export const TARGETS: readonly FuzzTarget<StreamsCorpus>[] = [decodeFramesTarget, frameBodyTarget, encodeFrameTarget, parseHeadersTarget, pcapWriterTarget, openTunOptionsTarget];

/** A target that allocates without bound: only for checking the supervisor's heap limit. Not in {@link TARGETS}. */
export const ALLOC_SELF_TEST: FuzzTarget<StreamsCorpus> = {
  name: 'selftest-alloc',
  codes: [],
  run() {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array<number>(1 << 16).fill(1));
  },
};
