/**
 * `struct virtio_net_hdr` (<linux/virtio_net.h>): the 10-byte header that
 * precedes every packet read from or written to a TUN/TAP fd opened with
 * IFF_VNET_HDR (12 bytes only after TUNSETVNETHDRSZ(12); tunpipe keeps 10).
 *
 * ```
 * 0       1          2         4          6            8             10
 * +-------+----------+---------+----------+------------+-------------+
 * | flags | gso_type | hdr_len | gso_size | csum_start | csum_offset |
 * +-------+----------+---------+----------+------------+-------------+
 *    u8       u8        u16       u16         u16           u16
 * ```
 *
 * The u16 fields are in host byte order (TUN's default without TUNSETVNETLE/BE):
 * little-endian on every platform Node runs tunpipe on, but decoded and encoded
 * here by the host's actual order.
 *
 * - `flags`: NEEDS_CSUM means the L4 checksum is partial: the field at
 *   `csum_start + csum_offset` holds the folded pseudo-header sum, and the
 *   checksum over `[csum_start, end)` still has to be computed.
 * - `gso_type`: NONE, or the kind of superpacket (TCPV4, TCPV6, UDP_L4), to be
 *   cut into segments of `gso_size` payload bytes each.
 * - `hdr_len`: length of all headers; NOT trustworthy from the kernel (it can be
 *   the whole linear part), so this package derives it itself.
 */
import { checkField } from './argument-checks.js';
import { OffloadErrorCode } from './error-codes.js';
import { TunError } from './errors.js';
import { HOST_LITTLE_ENDIAN } from './host-endian.js';

/** Length of `struct virtio_net_hdr` in bytes. */
export const VIRTIO_NET_HDR_LEN = 10;

/** Flag: the L4 checksum is partial and must be completed (VIRTIO_NET_HDR_F_NEEDS_CSUM). */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** Flag: the checksum has been validated (VIRTIO_NET_HDR_F_DATA_VALID). */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
/** Flag: csum fields carry RSC info (VIRTIO_NET_HDR_F_RSC_INFO; not used by TUN). */
export const VIRTIO_NET_HDR_F_RSC_INFO = 4;

/** Not a superpacket (VIRTIO_NET_HDR_GSO_NONE). */
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** IPv4 TCP superpacket (VIRTIO_NET_HDR_GSO_TCPV4). */
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** IPv4 UDP fragmentation offload, obsolete (VIRTIO_NET_HDR_GSO_UDP); rejected by this package. */
export const VIRTIO_NET_HDR_GSO_UDP = 3;
/** IPv6 TCP superpacket (VIRTIO_NET_HDR_GSO_TCPV6). */
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** UDP segmentation offload, IPv4 or IPv6 (VIRTIO_NET_HDR_GSO_UDP_L4, Linux 6.2 uapi). */
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** Bit or-ed into a TCP gso_type when the superpacket has CWR set (VIRTIO_NET_HDR_GSO_ECN). */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** Byte offsets of the virtio_net_hdr fields. */
export const VirtioNetHdrField = {
  /** u8: VIRTIO_NET_HDR_F_* flags. */
  FLAGS: 0,
  /** u8: VIRTIO_NET_HDR_GSO_* type. */
  GSO_TYPE: 1,
  /** u16: length of the headers (untrusted from the kernel). */
  HDR_LEN: 2,
  /** u16: payload bytes per segment. */
  GSO_SIZE: 4,
  /** u16: where checksumming starts (the L4 header). */
  CSUM_START: 6,
  /** u16: checksum field offset from csum_start (16 for TCP, 6 for UDP). */
  CSUM_OFFSET: 8,
} as const;

/** A decoded `struct virtio_net_hdr`. */
export interface VirtioNetHdr {
  /** VIRTIO_NET_HDR_F_* bits. */
  flags: number;
  /** VIRTIO_NET_HDR_GSO_* value (possibly or-ed with VIRTIO_NET_HDR_GSO_ECN). */
  gsoType: number;
  /** Header length as the sender claims it. */
  hdrLen: number;
  /** Payload bytes per segment. */
  gsoSize: number;
  /** Offset of the L4 header, where checksumming starts. */
  csumStart: number;
  /** Offset of the checksum field from csumStart. */
  csumOffset: number;
}

/** A zeroed header object, e.g. the reusable `out` argument of {@link decodeVirtioNetHdr}. */
export function createVirtioNetHdr(): VirtioNetHdr {
  return { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
}

/** Reads a host-endian u16. */
export function readHostU16(bytes: Uint8Array, at: number): number {
  return HOST_LITTLE_ENDIAN ? bytes[at] | (bytes[at + 1] << 8) : (bytes[at] << 8) | bytes[at + 1];
}

/** Writes a host-endian u16 (the low 16 bits of `value`). */
export function writeHostU16(bytes: Uint8Array, at: number, value: number): void {
  if (HOST_LITTLE_ENDIAN) {
    bytes[at] = value;
    bytes[at + 1] = value >>> 8;
  } else {
    bytes[at] = value >>> 8;
    bytes[at + 1] = value;
  }
}

/**
 * Decodes the header at `bytes[offset, offset + 10)` into `out` (a new object
 * when omitted; pass one to allocate nothing) and returns it. Throws
 * ERR_TUN_BAD_VIRTIO_HDR when fewer than 10 bytes are there.
 */
export function decodeVirtioNetHdr(bytes: Uint8Array, out: VirtioNetHdr = createVirtioNetHdr(), offset = 0): VirtioNetHdr {
  if (!(Number.isInteger(offset) && offset >= 0 && bytes.length - offset >= VIRTIO_NET_HDR_LEN)) {
    throw new TunError(
      OffloadErrorCode.BAD_VIRTIO_HDR,
      `virtio_net_hdr needs ${VIRTIO_NET_HDR_LEN} bytes at offset ${offset}, got ${bytes.length - offset}`,
    );
  }
  out.flags = bytes[offset];
  out.gsoType = bytes[offset + 1];
  out.hdrLen = readHostU16(bytes, offset + VirtioNetHdrField.HDR_LEN);
  out.gsoSize = readHostU16(bytes, offset + VirtioNetHdrField.GSO_SIZE);
  out.csumStart = readHostU16(bytes, offset + VirtioNetHdrField.CSUM_START);
  out.csumOffset = readHostU16(bytes, offset + VirtioNetHdrField.CSUM_OFFSET);
  return out;
}

/**
 * Encodes `hdr` into `bytes[offset, offset + 10)`. Throws ERR_TUN_BUFFER_TOO_SMALL
 * when there is no room, ERR_TUN_INVALID_ARGUMENT for a field out of range.
 */
export function encodeVirtioNetHdr(hdr: VirtioNetHdr, bytes: Uint8Array, offset = 0): void {
  if (!(Number.isInteger(offset) && offset >= 0 && bytes.length - offset >= VIRTIO_NET_HDR_LEN)) {
    throw new TunError(
      OffloadErrorCode.BUFFER_TOO_SMALL,
      `virtio_net_hdr needs ${VIRTIO_NET_HDR_LEN} bytes at offset ${offset}, buffer has ${bytes.length - offset}`,
    );
  }
  checkField(hdr.flags, 0xff, 'virtio_net_hdr.flags');
  checkField(hdr.gsoType, 0xff, 'virtio_net_hdr.gsoType');
  checkField(hdr.hdrLen, 0xffff, 'virtio_net_hdr.hdrLen');
  checkField(hdr.gsoSize, 0xffff, 'virtio_net_hdr.gsoSize');
  checkField(hdr.csumStart, 0xffff, 'virtio_net_hdr.csumStart');
  checkField(hdr.csumOffset, 0xffff, 'virtio_net_hdr.csumOffset');
  writeVirtioNetHdr(bytes, offset, hdr.flags, hdr.gsoType, hdr.hdrLen, hdr.gsoSize, hdr.csumStart, hdr.csumOffset);
}

/** Writes the six fields at `offset` without checks or an object (internal hot paths). */
export function writeVirtioNetHdr(
  bytes: Uint8Array,
  offset: number,
  flags: number,
  gsoType: number,
  hdrLen: number,
  gsoSize: number,
  csumStart: number,
  csumOffset: number,
): void {
  bytes[offset] = flags;
  bytes[offset + 1] = gsoType;
  writeHostU16(bytes, offset + VirtioNetHdrField.HDR_LEN, hdrLen);
  writeHostU16(bytes, offset + VirtioNetHdrField.GSO_SIZE, gsoSize);
  writeHostU16(bytes, offset + VirtioNetHdrField.CSUM_START, csumStart);
  writeHostU16(bytes, offset + VirtioNetHdrField.CSUM_OFFSET, csumOffset);
}
