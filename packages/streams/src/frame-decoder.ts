/**
 * `decodeFrames()`: bytes -> packets, the receiving half of the framed transport
 * (format in frame-format.ts).
 *
 * Chunks may split frames anywhere. Memory is bounded: a frame that lies entirely
 * inside one chunk is decoded in place (its packet's `data` is a view into that
 * chunk); a frame split across chunks is assembled in a buffer of exactly its body
 * length, allocated only after the prefix has been checked against `maxFrameSize`.
 * Nothing else is held, so at most `maxFrameSize + 4` bytes are buffered.
 *
 * Errors (always TunError):
 * - ERR_TUN_FRAME_TOO_LARGE: a prefix declares more than `maxFrameSize`.
 * - ERR_TUN_FRAME_MALFORMED: a body is not a valid packet record.
 * - ERR_TUN_FRAME_TRUNCATED: the input ended inside a frame.
 * With `onError: 'skip'` the first two are counted and the frame is skipped (its
 * declared length tells where the next one starts); truncation cannot be
 * recovered from and always errors the stream.
 */
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode } from './error-codes.js';
import { FRAME_PREFIX_LEN, FrameBodyCodec, frameSizeOption } from './frame-format.js';
import type { Packet } from './packet.js';

/** Options of `decodeFrames()`. */
export interface FrameDecoderOptions {
  /** Largest frame body accepted, in bytes. Default 256 KiB. */
  maxFrameSize?: number;
  /** What an oversized or malformed frame does: fail the stream (default) or be counted and skipped. */
  onError?: 'error' | 'skip';
}

/** What a frame decoder has seen so far. */
export interface FrameDecoderStats {
  /** Frames decoded into packets. */
  frames: number;
  /** Input bytes consumed. */
  bytes: number;
  /** Frames skipped because their declared length exceeded `maxFrameSize` (skip mode). */
  skippedOversized: number;
  /** Frames skipped because their body was malformed (skip mode). */
  skippedMalformed: number;
  /** Bytes held right now for a frame split across chunks (never more than `maxFrameSize + 4`). */
  buffered: number;
}

/** A TransformStream from bytes to packets, with counters. */
export class FrameDecoder extends TransformStream<Uint8Array, Packet> {
  readonly #reader: FrameReader;

  /** See `decodeFrames()`. */
  constructor(options: FrameDecoderOptions = {}) {
    const reader = new FrameReader(options);
    super({
      transform: (chunk, controller) => reader.push(chunk, controller),
      flush: () => reader.end(),
    });
    this.#reader = reader;
  }

  /** Counters (a snapshot). */
  stats(): FrameDecoderStats {
    return { ...this.#reader.stats, buffered: this.#reader.buffered() };
  }
}

/** A TransformStream decoding length-prefixed msgpack frames into packets. */
export function decodeFrames(options: FrameDecoderOptions = {}): FrameDecoder {
  return new FrameDecoder(options);
}

interface PacketSink {
  enqueue(packet: Packet): void;
}

/** The decoder's state machine: prefix -> body (or skip) -> prefix ... */
class FrameReader {
  readonly stats: Omit<FrameDecoderStats, 'buffered'> = { frames: 0, bytes: 0, skippedOversized: 0, skippedMalformed: 0 };
  private readonly maxFrameSize: number;
  private readonly skipErrors: boolean;
  private readonly codec: FrameBodyCodec;
  private readonly prefix = new Uint8Array(FRAME_PREFIX_LEN);
  private prefixFill = 0;
  /** The body being assembled across chunks, or null. */
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  /** Bytes of an oversized frame still to be skipped. */
  private skipRemaining = 0;

  constructor(options: FrameDecoderOptions) {
    this.maxFrameSize = frameSizeOption(options.maxFrameSize);
    const onError = options.onError ?? 'error';
    if (onError !== 'error' && onError !== 'skip') {
      throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `onError must be 'error' or 'skip', got ${String(onError)}`);
    }
    this.skipErrors = onError === 'skip';
    this.codec = new FrameBodyCodec(this.maxFrameSize);
  }

  buffered(): number {
    return this.prefixFill + (this.body === null ? 0 : this.body.length);
  }

  push(chunk: Uint8Array, out: PacketSink): void {
    if (!(chunk instanceof Uint8Array)) {
      throw new TunError(StreamErrorCode.INVALID_ARGUMENT, 'frame decoder input chunks must be Uint8Array');
    }
    const n = chunk.length;
    this.stats.bytes += n;
    let pos = 0;
    while (pos < n) {
      if (this.skipRemaining > 0) {
        const k = Math.min(this.skipRemaining, n - pos);
        this.skipRemaining -= k;
        pos += k;
      } else if (this.body !== null) {
        const k = Math.min(this.body.length - this.bodyFill, n - pos);
        this.body.set(chunk.subarray(pos, pos + k), this.bodyFill);
        this.bodyFill += k;
        pos += k;
        if (this.bodyFill === this.body.length) {
          const body = this.body;
          this.body = null;
          this.emit(body, out);
        }
      } else if (this.prefixFill === 0 && n - pos >= FRAME_PREFIX_LEN) {
        // Fast path: the prefix, and maybe the whole body, is in this chunk.
        const length = readU32(chunk, pos);
        pos += FRAME_PREFIX_LEN;
        if (!this.admit(length)) continue;
        if (n - pos >= length) {
          this.emit(chunk.subarray(pos, pos + length), out);
          pos += length;
        } else {
          this.startBody(length, out);
        }
      } else {
        const k = Math.min(FRAME_PREFIX_LEN - this.prefixFill, n - pos);
        this.prefix.set(chunk.subarray(pos, pos + k), this.prefixFill);
        this.prefixFill += k;
        pos += k;
        if (this.prefixFill === FRAME_PREFIX_LEN) {
          this.prefixFill = 0;
          const length = readU32(this.prefix, 0);
          if (this.admit(length)) this.startBody(length, out);
        }
      }
    }
  }

  end(): void {
    if (this.prefixFill > 0 || this.body !== null || this.skipRemaining > 0) {
      const where =
        this.prefixFill > 0
          ? `${this.prefixFill} of ${FRAME_PREFIX_LEN} prefix bytes`
          : this.body !== null
            ? `${this.bodyFill} of ${this.body.length} body bytes`
            : `${this.skipRemaining} bytes of an oversized frame still to skip`;
      throw new TunError(StreamErrorCode.FRAME_TRUNCATED, `byte stream ended inside a frame (${where})`);
    }
  }

  /** Checks a declared length: true to read the body, false when it is being skipped (or throws). */
  private admit(length: number): boolean {
    if (length <= this.maxFrameSize) return true;
    if (!this.skipErrors) {
      throw new TunError(
        StreamErrorCode.FRAME_TOO_LARGE,
        `frame declares ${length} body bytes, more than maxFrameSize ${this.maxFrameSize}`,
      );
    }
    this.stats.skippedOversized++;
    this.skipRemaining = length;
    return false;
  }

  private startBody(length: number, out: PacketSink): void {
    if (length === 0) {
      // Nothing to wait for: an empty body is decoded (and rejected) right away.
      this.emit(new Uint8Array(0), out);
      return;
    }
    this.body = new Uint8Array(length);
    this.bodyFill = 0;
  }

  private emit(body: Uint8Array, out: PacketSink): void {
    let packet: Packet;
    try {
      packet = this.codec.decodeBody(body);
    } catch (err) {
      if (!this.skipErrors) throw err;
      this.stats.skippedMalformed++;
      return;
    }
    this.stats.frames++;
    out.enqueue(packet);
  }
}

function readU32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos]! << 24) >>> 0) + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!);
}
