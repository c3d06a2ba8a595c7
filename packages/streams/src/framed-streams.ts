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
import { Duplex, Readable, Writable } from 'node:stream';
import { FrameDecoder, type FrameDecoderOptions, type FrameDecoderStats } from './frame-decoder.js';
import { FrameEncoder, type FrameEncoderOptions, type FrameEncoderStats } from './frame-encoder.js';
import type { Packet } from './packet.js';

/** A readable and a writable side, as `pipeThrough` and tcpip.js-style stacks expect. */
export interface StreamPair<R, W = R> {
  /** What comes in. */
  readonly readable: ReadableStream<R>;
  /** What goes out. */
  readonly writable: WritableStream<W>;
}

/** Two Node streams used as one channel: e.g. a child's `{ readable: child.stdout, writable: child.stdin }`. */
export interface NodeStreamPair {
  /** Incoming bytes. */
  readonly readable: Readable;
  /** Outgoing bytes. */
  readonly writable: Writable;
}

/**
 * Web byte streams over a Node duplex (a `net.Socket`) or over a pair of Node
 * streams (child-process stdio), with Node's own adapters (`Duplex.toWeb`,
 * `Readable.toWeb`, `Writable.toWeb`). Closing the writable half-closes (ends) the
 * Node side; cancelling the readable destroys it.
 */
export function nodeByteStreams(stream: Duplex | NodeStreamPair): StreamPair<Uint8Array> {
  if (stream instanceof Duplex) {
    const pair = Duplex.toWeb(stream);
    return { readable: pair.readable as ReadableStream<Uint8Array>, writable: pair.writable as WritableStream<Uint8Array> };
  }
  return {
    readable: Readable.toWeb(stream.readable) as ReadableStream<Uint8Array>,
    writable: Writable.toWeb(stream.writable) as WritableStream<Uint8Array>,
  };
}

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
