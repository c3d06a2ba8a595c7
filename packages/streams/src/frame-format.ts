/**
 * The framed transport's wire format: one frame per packet.
 *
 * ```
 *  0               4                                   4 + length
 *  +---------------+-----------------------------------+
 *  | length u32 BE |  msgpack body (length bytes)      |
 *  +---------------+-----------------------------------+
 *
 *  body = map {
 *    v: 1                       format version (required, exactly 1)
 *    d: bin                     packet bytes (required)
 *    q: uint                    queue index (required)
 *    h: [flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset]
 *                               virtio_net_hdr fields, <linux/virtio_net.h> (optional)
 *    t: uint64                  timestamp, ns since the Unix epoch (optional)
 *    m: any                     application metadata (optional)
 *  }
 * ```
 *
 * Unknown keys are ignored (a later version may add some); everything listed is
 * checked. The same encoder and decoder instances are reused for every frame.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';
import { isBoundedMsgpack } from './msgpack-bounds.js';
import { metaProblem } from './frame-meta.js';
import { PacketView, type Packet } from './packet.js';
import type { VirtioNetHdr } from '@tunpipe/offload';

/** Bytes of the length prefix in front of every frame body. */
export const FRAME_PREFIX_LEN = 4;
/** The format version this code writes and reads (`v`). */
export const FRAME_VERSION = 1;
/** Default largest body accepted or produced: a 64 KB superpacket plus generous metadata. */
export const DEFAULT_MAX_FRAME_SIZE = 256 * 1024;

/** `maxFrameSize` with its default applied; throws ERR_TUN_INVALID_ARGUMENT when out of 1..2^32-1. */
export function frameSizeOption(value: number | undefined): number {
  const size = value ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isSafeInteger(size) || size < 1 || size > 0xffff_ffff) {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `maxFrameSize must be an integer in 1..2^32-1, got ${String(value)}`);
  }
  return size;
}

const EMPTY = new Uint8Array(0);

interface FrameBody {
  v: number;
  d: Uint8Array;
  q: number;
  h: number[] | undefined;
  t: bigint | undefined;
  m: unknown;
}

/** Turns packets into frame bodies and back; one instance per stream (it reuses its buffers). */
export class FrameBodyCodec {
  private readonly encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
  private readonly decoder: Decoder;
  private readonly body: FrameBody = { v: FRAME_VERSION, d: EMPTY, q: 0, h: undefined, t: undefined, m: undefined };

  /** `maxFrameSize` caps every length the decoder accepts inside a body. */
  constructor(maxFrameSize: number) {
    this.decoder = new Decoder({
      useBigInt64: true,
      maxStrLength: maxFrameSize,
      maxBinLength: maxFrameSize,
      maxArrayLength: maxFrameSize,
      maxMapLength: maxFrameSize,
      maxExtLength: maxFrameSize,
    });
  }

  /**
   * The frame of `packet` (prefix + body) in a new buffer. Throws
   * ERR_TUN_FRAME_TOO_LARGE above `maxFrameSize`, ERR_TUN_FRAME_UNENCODABLE when a
   * field is out of range or `meta` holds something msgpack cannot represent.
   */
  encodeFrame(packet: Packet, maxFrameSize: number): Uint8Array {
    const body = this.body;
    if (toUint(packet.queue, 0xffff_ffff) === undefined) {
      throw unencodable(`queue ${String(packet.queue)} is not an unsigned 32-bit integer`);
    }
    const hdr = packet.virtioHeader;
    if (hdr === undefined) body.h = undefined;
    else {
      const h = [hdr.flags, hdr.gsoType, hdr.hdrLen, hdr.gsoSize, hdr.csumStart, hdr.csumOffset];
      if (toVirtioHeader(h) === undefined) throw unencodable('virtio header field out of range');
      body.h = h;
    }
    const ts = packet.timestamp;
    if (ts !== undefined && toTimestamp(ts) === undefined) {
      throw unencodable(`timestamp ${String(ts)} is not an unsigned 64-bit bigint`);
    }
    body.t = ts;
    body.d = packet.data;
    body.q = packet.queue;
    const metaIssue = packet.meta === undefined ? undefined : metaProblem(packet.meta);
    if (metaIssue !== undefined) throw unencodable(`packet metadata would not survive msgpack: ${metaIssue}`);
    body.m = packet.meta;
    let encoded: Uint8Array;
    try {
      encoded = this.encoder.encodeSharedRef(body);
    } catch (cause) {
      throw unencodable('packet metadata cannot be encoded as msgpack', cause);
    } finally {
      body.d = EMPTY; // do not keep the caller's bytes alive
      body.m = undefined;
    }
    if (encoded.length > maxFrameSize) {
      throw new TunError(
        StreamErrorCode.FRAME_TOO_LARGE,
        `frame body of ${encoded.length} bytes exceeds maxFrameSize ${maxFrameSize}`,
      );
    }
    const frame = new Uint8Array(FRAME_PREFIX_LEN + encoded.length);
    new DataView(frame.buffer).setUint32(0, encoded.length, false);
    frame.set(encoded, FRAME_PREFIX_LEN);
    return frame;
  }

  /**
   * The packet a body encodes. Its `data` is a view into `body`, which the caller
   * must not reuse. Throws ERR_TUN_FRAME_MALFORMED.
   */
  decodeBody(body: Uint8Array): Packet {
    if (!isBoundedMsgpack(body)) throw malformed('body is not one well-formed msgpack value');
    let value: unknown;
    try {
      value = this.decoder.decode(body);
    } catch (cause) {
      throw malformed('body is not valid msgpack', cause);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      throw malformed('body is not a msgpack map');
    }
    const rec = value as Record<string, unknown>;
    if (rec.v !== FRAME_VERSION) throw malformed(`unsupported frame version ${String(rec.v)}`);
    if (!(rec.d instanceof Uint8Array)) throw malformed('`d` (packet bytes) is missing or not binary');
    const queue = toUint(rec.q, 0xffff_ffff);
    if (queue === undefined) throw malformed('`q` (queue) is missing or not an unsigned 32-bit integer');
    let hdr: VirtioNetHdr | undefined;
    if (rec.h !== undefined) {
      hdr = toVirtioHeader(rec.h);
      if (hdr === undefined) throw malformed('`h` (virtio header) is not six unsigned integers in range');
    }
    let timestamp: bigint | undefined;
    if (rec.t !== undefined) {
      timestamp = toTimestamp(rec.t);
      if (timestamp === undefined) throw malformed('`t` (timestamp) is not an unsigned 64-bit integer');
    }
    return new PacketView(rec.d, queue, hdr, timestamp, rec.m);
  }
}

function unencodable(message: string, cause?: unknown): TunError {
  return new TunError(StreamErrorCode.FRAME_UNENCODABLE, `cannot encode frame: ${message}`, cause === undefined ? {} : { cause });
}

function malformed(message: string, cause?: unknown): TunError {
  return new TunError(StreamErrorCode.FRAME_MALFORMED, `malformed frame: ${message}`, cause === undefined ? {} : { cause });
}

function toUint(value: unknown, max: number): number | undefined {
  if (typeof value === 'bigint') return value >= 0n && value <= BigInt(max) ? Number(value) : undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  return undefined;
}

function toTimestamp(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n && value < 1n << 64n ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return undefined;
}

// Field order and widths of struct virtio_net_hdr, <linux/virtio_net.h>: flags u8,
// gso_type u8, hdr_len, gso_size, csum_start, csum_offset u16.
const HDR_FIELD_MAX = [0xff, 0xff, 0xffff, 0xffff, 0xffff, 0xffff] as const;

function toVirtioHeader(value: unknown): VirtioNetHdr | undefined {
  if (!Array.isArray(value) || value.length !== HDR_FIELD_MAX.length) return undefined;
  const f: number[] = [];
  for (let i = 0; i < HDR_FIELD_MAX.length; i++) {
    const n = toUint(value[i], HDR_FIELD_MAX[i]!);
    if (n === undefined) return undefined;
    f.push(n);
  }
  return { flags: f[0]!, gsoType: f[1]!, hdrLen: f[2]!, gsoSize: f[3]!, csumStart: f[4]!, csumOffset: f[5]! };
}
