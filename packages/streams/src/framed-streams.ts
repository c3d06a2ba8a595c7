/**
 * Framed transports over real byte streams: Node sockets and child-process stdio
 * bridged to web streams, and packets carried over them.
 *
 * ```ts
 * const socket = net.connect(port, '127.0.0.1');
 * const peer = framedStreams(nodeByteStreams(socket));
 * await pipeline(tun.readable, peer.writable);     // packets out as frames
 * await pipeline(peer.readable, tun.writable);     // frames in as packets
 * ```
 */
import { FrameDecoder, type FrameDecoderOptions, type FrameDecoderStats } from './frame-decoder.js';
import { FrameEncoder, type FrameEncoderOptions, type FrameEncoderStats } from './frame-encoder.js';
import type { StreamPair } from './node-byte-streams.js';
import type { Packet } from './packet.js';

/** Options of `framedStreams()`. */
export interface FramedStreamsOptions {
  /** Options of the encoder of the outgoing side. */
  encode?: FrameEncoderOptions;
  /** Options of the decoder of the incoming side. */
  decode?: FrameDecoderOptions;
}

/** A packet channel over a byte channel: what `framedStreams()` returns. */
export interface FramedStreams extends StreamPair<Packet> {
  /** Counters of both directions. */
  stats(): { encoder: FrameEncoderStats; decoder: FrameDecoderStats };
}

/**
 * Packets over a byte channel: `writable` encodes each packet as a frame onto
 * `bytes.writable`; `readable` decodes the frames arriving on `bytes.readable`.
 * Backpressure crosses both codecs; an error on either byte side errors the
 * matching packet side.
 */
export function framedStreams(bytes: StreamPair<Uint8Array>, options: FramedStreamsOptions = {}): FramedStreams {
  const encoder = new FrameEncoder(options.encode);
  const decoder = new FrameDecoder(options.decode);
  const piped = encoder.readable.pipeTo(bytes.writable);
  piped.catch(() => undefined); // observed through `writable` below
  const writer = encoder.writable.getWriter();
  // A thin writable in front of the encoder, so that `close()` resolves only once
  // the last frame has been handed to the byte sink (and the sink has closed).
  const writable = new WritableStream<Packet>(
    {
      async write(packet) {
        await writer.ready;
        await writer.write(packet);
      },
      async close() {
        await writer.close();
        await piped;
      },
      async abort(reason) {
        await writer.abort(reason);
      },
    },
    { highWaterMark: 1 },
  );
  return {
    readable: bytes.readable.pipeThrough(decoder),
    writable,
    stats: () => ({ encoder: encoder.stats(), decoder: decoder.stats() }),
  };
}
