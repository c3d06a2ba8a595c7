/** @tunpipe/streams: packets as Web Streams and RxJS, pipelines, framed transport, pcap capture. */

// Errors: the stable codes of this package (all errors are TunError).
export { StreamErrorCode, abortedError } from './error-codes.js';

// Packets: the unit everything here passes around (ownership rules in packet.ts).
export { PacketView, packetOf, isPacket, timestampNow, type Packet, type PacketMeta } from './packet.js';

// Devices: openTun() and the streams of an open device (ownership rules in packet-cursor.ts).
export { QueueWorkerPool, type QueueWorkerPoolOptions } from '@tunpipe/linux-mq';
export { openTun, checkTunOptions, builderFromOptions, DEFAULT_RETAIN, MAX_RETAIN, MAX_SPIN, type OpenTunOptions, type TunDeviceOptions } from './open-tun.js';
export { TunStreams, type TunStats, type PacketIterationOptions } from './tun-streams.js';
export { TunReadableStream, type PipePath } from './fused-pipe.js';
export { type ConsumerKind } from './consumer-gate.js';
export { type TxQueuePolicy, type WritablePacket, type PacketSendOptions } from './packet-sink.js';
export { packetBytes, type PacketBytesOptions } from './packet-bytes.js';
export { PACKETS_PER_TURN } from './turn-budget.js';
export type { PacketBatch } from '@tunpipe/linux-mq';

// Framed transport: packets as length-prefixed msgpack frames over any byte stream.
export { DEFAULT_MAX_FRAME_SIZE, FRAME_PREFIX_LEN, FRAME_VERSION } from './frame-format.js';
export { FrameEncoder, encodeFrames, type FrameEncoderOptions, type FrameEncoderStats } from './frame-encoder.js';
export { FrameDecoder, decodeFrames, type FrameDecoderOptions, type FrameDecoderStats } from './frame-decoder.js';
export { framedStreams, type FramedStreams, type FramedStreamsOptions } from './framed-streams.js';

// Node streams (sockets, child stdio, files) as web byte streams.
export {
  nodeByteStreams,
  nodeReadableToWeb,
  nodeWritableToWeb,
  type StreamPair,
  type NodeStreamPair,
} from './node-byte-streams.js';

// Capture: classic pcap files and taps that record what flows through.
export {
  PcapWriter,
  LINKTYPE_RAW,
  LINKTYPE_ETHERNET,
  PCAP_MAGIC_MICROS,
  PCAP_MAGIC_NANOS,
  PCAP_GLOBAL_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  PCAP_MAX_SNAPLEN,
  type PcapWriterOptions,
  type PcapWriterStats,
} from './pcap-writer.js';
export { pcapTap, tapPcap, type PcapTapOptions } from './pcap-tap.js';

// Composition: pipelines with backpressure and abort, worker-pool stages.
export { pipeline, type PipelineOptions, type PipelineSource, type PipelineStage, type SignalAwareStage } from './pipeline.js';
export { PiscinaStage, piscinaStage, type PiscinaStageOptions, type PiscinaStageStats, type TaskCodec } from './piscina-stage.js';
export { piscinaPacketStage, type PacketRecord, type PacketTaskResult } from './piscina-packet-stage.js';

// Headers: packets parsed with @tunpipe/offload's wire views.
export { parsePacket, tryParsePacket, parseCounters, type LinkLayer, type PacketHeaders, type ParseCounters } from './packet-headers.js';

// RxJS operators: parsing, protocol filters, flows, rates, sampling.
export { parseHeaders, type ParseHeadersOptions } from './parse-headers.js';
export {
  filterProtocol,
  packetMatcher,
  headersMatch,
  ipv4,
  ipv6,
  tcp,
  udp,
  icmp,
  type ProtocolName,
  type ProtocolFilter,
  type ProtocolFilterOptions,
} from './protocol-filter.js';
export { flowKeyOf, flowKey, type FlowKeyOptions, type FlowOperatorOptions, type KeyedPacket } from './flow-key.js';
export { groupByFlow, type GroupByFlowOptions } from './group-by-flow.js';
export { rateWindow, type RateSample, type RateWindowOptions } from './rate-window.js';
export { sampleEveryNth, sampleProbability, type SampleProbabilityOptions } from './packet-sampling.js';
export { SeededRandom } from './seeded-random.js';
