/**
 * `encodeFrames()`: packets -> bytes, the sending half of the framed transport
 * (format in frame-format.ts). One output chunk per packet; the packet's bytes are
 * copied into it, so ring-backed packets may be released as soon as the chunk is
 * produced.
 */
import { FrameBodyCodec, frameSizeOption } from './frame-format.js';
import type { Packet } from './packet.js';

/** Options of `encodeFrames()`. */
export interface FrameEncoderOptions {
  /**
   * Largest frame body produced, in bytes (default 256 KiB, the decoder's default):
   * a larger packet errors the stream with ERR_TUN_FRAME_TOO_LARGE instead of
   * sending a frame the peer would refuse.
   */
  maxFrameSize?: number;
}

/** What a frame encoder has produced so far. */
export interface FrameEncoderStats {
  /** Frames written. */
  frames: number;
  /** Output bytes (prefixes included). */
  bytes: number;
}

/** A TransformStream from packets to length-prefixed msgpack frames, with counters. */
export class FrameEncoder extends TransformStream<Packet, Uint8Array> {
  readonly #stats: FrameEncoderStats;

  /** See `encodeFrames()`. */
  constructor(options: FrameEncoderOptions = {}) {
    const maxFrameSize = frameSizeOption(options.maxFrameSize);
    const codec = new FrameBodyCodec(maxFrameSize);
    const stats: FrameEncoderStats = { frames: 0, bytes: 0 };
    super({
      transform(packet, controller) {
        const frame = codec.encodeFrame(packet, maxFrameSize);
        stats.frames++;
        stats.bytes += frame.length;
        controller.enqueue(frame);
      },
    });
    this.#stats = stats;
  }

  /** Counters (a snapshot). */
  stats(): FrameEncoderStats {
    return { ...this.#stats };
  }
}

/** A TransformStream encoding packets (bytes, queue, virtio header, timestamp, meta) as frames. */
export function encodeFrames(options: FrameEncoderOptions = {}): FrameEncoder {
  return new FrameEncoder(options);
}
