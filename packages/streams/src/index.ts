/** @tunpipe/streams: packets as Web Streams and RxJS, pipelines, framed transport, pcap capture. */
export { StreamErrorCode, abortedError } from './error-codes.js';
export { PacketView, packetOf, isPacket, timestampNow, type Packet, type PacketMeta } from './packet.js';
export { DEFAULT_MAX_FRAME_SIZE, FRAME_PREFIX_LEN, FRAME_VERSION } from './frame-format.js';
export { FrameEncoder, encodeFrames, type FrameEncoderOptions, type FrameEncoderStats } from './frame-encoder.js';
export { FrameDecoder, decodeFrames, type FrameDecoderOptions, type FrameDecoderStats } from './frame-decoder.js';
export {
  nodeByteStreams,
  nodeReadableToWeb,
  nodeWritableToWeb,
  type StreamPair,
  type NodeStreamPair,
} from './node-byte-streams.js';
export { framedStreams, type FramedStreams, type FramedStreamsOptions } from './framed-streams.js';
