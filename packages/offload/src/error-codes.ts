/**
 * The stable error codes of @tunpipe/offload, in one table. Every error this
 * package throws is a `TunError` whose `code` is one of these. The package never
 * produces partial output: every check that can fail runs before the first byte
 * of any output buffer is written.
 *
 * | code                          | thrown by                                    | meaning |
 * |-------------------------------|----------------------------------------------|---------|
 * | `ERR_TUN_MALFORMED_PACKET`    | wire view constructors, split                | the bytes are not a well-formed packet of that kind (too short, wrong version, bad header length, length field past the end) |
 * | `ERR_TUN_BAD_VIRTIO_HDR`      | decode, handleVirtioRead, splitGso, completeChecksum | the virtio_net_hdr contradicts itself or the packet: gso_size 0, unknown gso type, gso type not matching the IP version or protocol, csum_start/csum_offset past the end or not at the L4 checksum, segments longer than 65535 |
 * | `ERR_TUN_BAD_TCP_HEADER`      | handleVirtioRead, splitGso                   | the TCP header of a TCP superpacket has a data offset outside 20..60 or runs past the end |
 * | `ERR_TUN_TOO_MANY_SEGMENTS`   | handleVirtioRead, splitGso                   | the packet splits into more segments than `bufs` (or `sizes`) has room for |
 * | `ERR_TUN_BUFFER_TOO_SMALL`    | handleVirtioRead, splitGso, encode           | an output buffer cannot hold its segment (or header) at the given offset |
 * | `ERR_TUN_INVALID_ARGUMENT`    | every function taking offsets or ranges      | a bad argument: negative or non-integer offset, a range outside the array, `lengths` shorter than `bufs`, a header field out of range |
 */
import { TunError } from './errors.js';

/** The error codes of @tunpipe/offload (see the table in this file's header). */
export const OffloadErrorCode = {
  /** The bytes are not a well-formed packet of the kind a wire view (or split) expects. */
  MALFORMED_PACKET: 'ERR_TUN_MALFORMED_PACKET',
  /** The virtio_net_hdr contradicts itself or the packet it describes. */
  BAD_VIRTIO_HDR: 'ERR_TUN_BAD_VIRTIO_HDR',
  /** The TCP header of a TCP superpacket has a data offset outside 20..60 or runs past the end. */
  BAD_TCP_HEADER: 'ERR_TUN_BAD_TCP_HEADER',
  /** The packet splits into more segments than the output has room for. */
  TOO_MANY_SEGMENTS: 'ERR_TUN_TOO_MANY_SEGMENTS',
  /** An output buffer is too small for what must be written into it. */
  BUFFER_TOO_SMALL: 'ERR_TUN_BUFFER_TOO_SMALL',
  /** A bad argument: offset, range, array length or field value. */
  INVALID_ARGUMENT: 'ERR_TUN_INVALID_ARGUMENT',
} as const;

/** One of @tunpipe/offload's error codes. */
export type OffloadErrorCode = (typeof OffloadErrorCode)[keyof typeof OffloadErrorCode];

/** Builds the TunError for a malformed packet (`what` names the layer, `why` the defect). */
export function malformedPacket(what: string, why: string): TunError {
  return new TunError(OffloadErrorCode.MALFORMED_PACKET, `malformed ${what}: ${why}`);
}

/** Builds the TunError for an invalid argument. */
export function invalidArgument(message: string): TunError {
  return new TunError(OffloadErrorCode.INVALID_ARGUMENT, message);
}

