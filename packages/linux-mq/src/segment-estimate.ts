/**
 * How many ring slots one read will occupy once split, computed from its
 * virtio_net_hdr before splitting, so that a superpacket is only split when the
 * ring has room for all of its segments (otherwise it waits, whole, in scratch).
 *
 * The count follows the same rules as the splitter: the header length is derived
 * from csum_start plus the TCP data offset (or + 8 for UDP), never from the
 * kernel's hdr_len (DESIGN.md), and segments = ceil(payload / gso_size).
 */
import {
  VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_GSO_ECN, VirtioNetHdrField,
} from '@tunpipe/offload';

/** The virtio_net_hdr's u16 fields are host-endian (TUN without TUNSETVNETLE/BE). */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readHostU16(bytes: Uint8Array, at: number): number {
  return HOST_LE ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! << 8) | bytes[at + 1]!;
}

/**
 * Slots needed by the read in `frame[0, len)` (virtio header first): 1 for a plain
 * packet, the segment count for a superpacket, 0 when the header makes no sense
 * (the caller counts the read as malformed).
 */
export function estimateSegments(frame: Uint8Array, len: number): number {
  const gsoType = frame[VirtioNetHdrField.GSO_TYPE]! & ~VIRTIO_NET_HDR_GSO_ECN;
  if (gsoType === VIRTIO_NET_HDR_GSO_NONE) return 1;
  const gsoSize = readHostU16(frame, VirtioNetHdrField.GSO_SIZE);
  const csumStart = readHostU16(frame, VirtioNetHdrField.CSUM_START);
  const packetLen = len - VIRTIO_NET_HDR_LEN;
  if (gsoSize === 0) return 0;
  let headers: number;
  if (gsoType === VIRTIO_NET_HDR_GSO_TCPV4 || gsoType === VIRTIO_NET_HDR_GSO_TCPV6) {
    const offsetByte = VIRTIO_NET_HDR_LEN + csumStart + 12;
    if (csumStart + 20 > packetLen) return 0;
    headers = csumStart + ((frame[offsetByte]! >> 4) << 2);
  } else if (gsoType === VIRTIO_NET_HDR_GSO_UDP_L4) {
    headers = csumStart + 8;
  } else {
    return 0;
  }
  const payload = packetLen - headers;
  if (payload <= 0) return 1;
  return Math.ceil(payload / gsoSize);
}
