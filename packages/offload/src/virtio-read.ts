/**
 * The read path of an offload-enabled TUN fd: what one `read()` returned (a
 * virtio_net_hdr followed by one packet or superpacket) becomes ordinary packets.
 *
 * ```
 * input:  | virtio_net_hdr (10) | IP packet or superpacket ........... |
 * bufs[0]:  [offset] | segment 0 |       sizes[0]
 * bufs[1]:  [offset] | segment 1 |       sizes[1]  ...
 * ```
 */
import { OffloadErrorCode } from './error-codes.js';
import { TunError } from './errors.js';
import { splitPacket, type SegmentSizes } from './gso-split.js';
import { createVirtioNetHdr, decodeVirtioNetHdr, VIRTIO_NET_HDR_LEN } from './virtio-net-hdr.js';

// Decoded into once per call; never handed out, so reuse is safe.
const readHdr = createVirtioNetHdr();

/**
 * Handles what one read from an IFF_VNET_HDR fd returned. For GSO_NONE it
 * completes a NEEDS_CSUM checksum and copies the packet to `bufs[0]` at
 * `offset`; for TCPV4, TCPV6 and UDP_L4 it splits the superpacket into
 * `bufs[i]` at `offset` (see splitGso for every field it rewrites). Sets
 * `sizes[i]` and returns the number of packets. Room is
 * `min(bufs.length, sizes.length)` packets.
 *
 * Errors instead of partial output (see error-codes.ts): ERR_TUN_BAD_VIRTIO_HDR
 * (header shorter than 10 bytes, gso_size 0, unknown gso type, type not matching
 * the IP version or protocol, csum_start/csum_offset wrong or past the end),
 * ERR_TUN_BAD_TCP_HEADER, ERR_TUN_MALFORMED_PACKET, ERR_TUN_TOO_MANY_SEGMENTS,
 * ERR_TUN_BUFFER_TOO_SMALL, ERR_TUN_INVALID_ARGUMENT. Allocates nothing per call.
 */
export function handleVirtioRead(input: Uint8Array, bufs: readonly Uint8Array[], sizes: SegmentSizes, offset: number): number {
  if (input.length < VIRTIO_NET_HDR_LEN) {
    throw new TunError(OffloadErrorCode.BAD_VIRTIO_HDR, `a read of ${input.length} bytes cannot hold the ${VIRTIO_NET_HDR_LEN}-byte virtio_net_hdr`);
  }
  decodeVirtioNetHdr(input, readHdr, 0);
  return splitPacket(input, VIRTIO_NET_HDR_LEN, input.length, readHdr, bufs, sizes, offset);
}
