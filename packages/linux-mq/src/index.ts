/**
 * @tunpipe/linux-mq: multi-queue TUN/TAP I/O on worker threads. Each queue fd is
 * pinned to its own worker that reads batches into SharedArrayBuffer rings
 * (splitting or keeping offload superpackets), writes from TX rings with GRO, and
 * can run an in-worker packet handler that drops, passes, replies or forwards.
 */
export { QueueWorkerPool, type QueueWorkerPoolOptions } from './worker-pool.js';
export { openQueues, QueueSet, type OpenQueuesOptions, type AffinityOption, type HandlerErrorEvent, type QueueWorkerInfo } from './queue-set.js';
export { checkQueueOptions, MAX_RING_BYTES, MAX_STATS_INTERVAL } from './queue-options.js';
export { RxRedirect, type RedirectOptions, type RedirectEnd, type RedirectEndCause } from './rx-redirect.js';
export { BatchReader, type ReadOptions, type BatchReaderOptions } from './batch-reader.js';
export { PacketBatch } from './packet-batch.js';
export { PacketWriter, type SendOptions } from './packet-writer.js';
export { Verdict, MAX_FORWARD_DEVICE } from './verdict.js';
export type { HandlerBatch, HandlerContext, PacketHandler, HandlerModule } from './handler-api.js';
export type { QueueMode, HandlerErrorPolicy } from './worker-protocol.js';
export { STAT_NAMES, StatsTable, type QueueStats, type StatTotals, type StatName } from './queue-stats.js';
export { CHANNELS, channels } from './diagnostics.js';
export { QueueErrorCode } from './error-codes.js';
export { flowHash } from './flow-hash.js';
export { SlotRing, type SlotRingDescriptor } from './slot-ring.js';
export type { ReadsOption, ReadPath } from './uring-reads.js';
