/**
 * The stable error codes of @tunpipe/streams, in one table. Every error this
 * package raises is a `TunError` with one of these codes; users and tests match on
 * the code, never on the message.
 */
import { TunError } from '@tunpipe/offload';

/** Error codes of @tunpipe/streams, by name. */
export const StreamErrorCode = {
  /** A bad argument or option: a negative queue, a non-positive size, an unknown link type. */
  INVALID_ARGUMENT: 'ERR_TUN_INVALID_ARGUMENT',
  /** A frame's declared body length exceeds `maxFrameSize` (decided from the 4-byte prefix, before buffering). */
  FRAME_TOO_LARGE: 'ERR_TUN_FRAME_TOO_LARGE',
  /** The byte stream ended inside a frame (prefix or body incomplete). */
  FRAME_TRUNCATED: 'ERR_TUN_FRAME_TRUNCATED',
  /** A frame body is not a valid msgpack packet record (`{v: 1, d, q, h?, t?, m?}`). */
  FRAME_MALFORMED: 'ERR_TUN_FRAME_MALFORMED',
  /** A packet cannot be encoded as a frame (its `meta` holds something msgpack cannot represent). */
  FRAME_UNENCODABLE: 'ERR_TUN_FRAME_UNENCODABLE',
  /** A Node stream under a byte-stream adapter closed before its end (destroyed without 'end'). */
  PREMATURE_CLOSE: 'ERR_TUN_PREMATURE_CLOSE',
  /** A Node stream under a byte-stream adapter failed (ECONNRESET, EPIPE...); errno, syscall and cause kept. */
  BYTE_STREAM: 'ERR_TUN_BYTE_STREAM',
  /** The capture sink (file or byte stream) of a PcapWriter failed; `cause` (and errno/syscall for files) tell why. */
  CAPTURE_WRITE: 'ERR_TUN_CAPTURE_WRITE',
  /** The pcap writer (or its tap), or a device's streams, used after `close()`. */
  CLOSED: 'ERR_TUN_CLOSED',
  /** A second packet consumer (readable, batches, packets$, async iteration) started while another is active. */
  CONSUMER_ACTIVE: 'ERR_TUN_CONSUMER_ACTIVE',
  /** An operation was aborted by its AbortSignal (`name` is `AbortError`, `cause` is the signal's reason). */
  ABORTED: 'ERR_TUN_ABORTED',
  /** A worker task of a piscina stage failed (`cause` is the worker's error). */
  WORKER_TASK: 'ERR_TUN_WORKER_TASK',
} as const;

/** One of the streams layer's error codes. */
export type StreamErrorCode = (typeof StreamErrorCode)[keyof typeof StreamErrorCode];

/** An AbortError-like TunError: name `AbortError`, code ERR_TUN_ABORTED, cause = the signal's reason. */
export function abortedError(signal: AbortSignal): TunError {
  const err = new TunError(StreamErrorCode.ABORTED, 'the operation was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

/**
 * `err` (a Node stream or fs error) as a TunError with `code`: errno (made
 * positive), syscall and the original as `cause` are kept. TunErrors pass unchanged.
 */
export function fromNodeError(code: StreamErrorCode, what: string, err: unknown): TunError {
  if (err instanceof TunError) return err;
  const e = err as Partial<NodeJS.ErrnoException> | undefined;
  const details: { cause: unknown; errno?: number; syscall?: string } = { cause: err };
  if (typeof e?.errno === 'number') details.errno = Math.abs(e.errno);
  if (typeof e?.syscall === 'string') details.syscall = e.syscall;
  return new TunError(code, `${what}: ${e?.message ?? String(err)}`, details);
}
