/**
 * `node:diagnostics_channel` channels published by queue sets. Subscribing costs
 * the queues nothing: messages are built only when a channel has subscribers.
 *
 * | channel                         | message                                                   |
 * |---------------------------------|-----------------------------------------------------------|
 * | `tunpipe:queue:error`           | `{ device, queue, error }`: a queue failed (TunError; device gone, read error, worker died) |
 * | `tunpipe:queue:handler-error`   | `{ device, queue, error, packets, suppressed }`: the in-worker handler threw |
 * | `tunpipe:queue:stats`           | `{ stats }`: every queue's counters, every `statsInterval` ms |
 * | `tunpipe:queue:lifecycle`       | `{ device, queue, event }`: 'ready', 'attached', 'detached', 'exit'; for RX redirects (`redirectTo`, fused pipes) 'held', 'redirected', 'unredirected' |
 */
import diagnostics from 'node:diagnostics_channel';

/** Channel names. */
export const CHANNELS = {
  /** A queue failed. */
  error: 'tunpipe:queue:error',
  /** An in-worker handler threw. */
  handlerError: 'tunpipe:queue:handler-error',
  /** Periodic stats snapshot. */
  stats: 'tunpipe:queue:stats',
  /** Worker ready/exit, queue attached/detached, RX held/redirected/unredirected. */
  lifecycle: 'tunpipe:queue:lifecycle',
} as const;

/** The channel objects. */
export const channels = {
  /** `tunpipe:queue:error` */
  error: diagnostics.channel(CHANNELS.error),
  /** `tunpipe:queue:handler-error` */
  handlerError: diagnostics.channel(CHANNELS.handlerError),
  /** `tunpipe:queue:stats` */
  stats: diagnostics.channel(CHANNELS.stats),
  /** `tunpipe:queue:lifecycle` */
  lifecycle: diagnostics.channel(CHANNELS.lifecycle),
};
