/**
 * The stable error codes @tunpipe/linux-mq throws (always as `TunError`). Users
 * and tests match on the code, never on the message.
 */
export const QueueErrorCode = {
  /** The device disappeared under a queue (link deleted, namespace gone): POLLERR / EBADFD in the worker. */
  DEVICE_GONE: 'ERR_TUN_DEVICE_GONE',
  /** The queue set (or this queue) was closed before or during the call. */
  CLOSED: 'ERR_TUN_CLOSED',
  /** read() on a queue failed with an unexpected errno (`errno` says which). */
  READ: 'ERR_TUN_READ',
  /** The in-worker handler threw with `handlerErrors: 'fatal'`, or its module could not be loaded. */
  HANDLER: 'ERR_TUN_HANDLER',
  /** A queue worker died (uncaught exception, failed to start). */
  WORKER: 'ERR_TUN_WORKER',
  /** A bad option or argument (queue count, ring size, device index, packet type...). */
  INVALID_ARGUMENT: 'ERR_TUN_INVALID_ARGUMENT',
  /** A packet longer than a TX slot holds, or empty. */
  PACKET_TOO_BIG: 'ERR_TUN_PACKET_TOO_BIG',
  /** Every queue of the device is detached: nothing can be sent. */
  NO_QUEUE: 'ERR_TUN_NO_QUEUE',
  /** TUNSETQUEUE (attach/detach) failed (`errno` says why). */
  IOCTL: 'ERR_TUN_IOCTL',
  /** A wait was aborted by its signal (`cause` is the signal's reason). */
  ABORTED: 'ERR_TUN_ABORTED',
  /** The device's RX is already redirected (`QueueSet.redirectTo`): one redirect per source device at a time. */
  REDIRECT_ACTIVE: 'ERR_TUN_REDIRECT_ACTIVE',
} as const;

/** One of linux-mq's error codes. */
export type QueueErrorCode = (typeof QueueErrorCode)[keyof typeof QueueErrorCode];
