/**
 * Completing a partial (CHECKSUM_PARTIAL / NEEDS_CSUM) checksum: the field at
 * `csum_start + csum_offset` already holds the folded pseudo-header sum, so the
 * checksum is the complement of the sum over `[csum_start, end)`, that field
 * included. A result of 0 is stored as 0xffff (the kernel's CSUM_MANGLED_0): for
 * UDP 0 would mean "no checksum", and for TCP both encode the same value.
 */
import { checkRange } from './argument-checks.js';
import { sumRange } from './checksum.js';
import { OffloadErrorCode } from './error-codes.js';
import { TunError } from './errors.js';
import { VIRTIO_NET_HDR_F_NEEDS_CSUM, type VirtioNetHdr } from './virtio-net-hdr.js';
import { writeU16 } from './wire/big-endian.js';

/**
 * Completes the checksum of the packet at `packet[offset, offset + length)`
 * when `hdr` has NEEDS_CSUM; does nothing otherwise. Throws
 * ERR_TUN_BAD_VIRTIO_HDR when the checksum field lies past the end (nothing is
 * written then). Does not touch `hdr`. Allocates nothing.
 */
export function completeChecksum(packet: Uint8Array, hdr: VirtioNetHdr, offset = 0, length = packet.length - offset): void {
  checkRange(packet.length, offset, offset + length, 'completeChecksum');
  if ((hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) === 0) return;
  checkChecksumPosition(hdr.csumStart, hdr.csumOffset, length);
  completeChecksumAt(packet, offset, length, hdr.csumStart, hdr.csumOffset);
}

/** Throws ERR_TUN_BAD_VIRTIO_HDR unless the 2-byte field at csumStart + csumOffset fits in `length`. */
export function checkChecksumPosition(csumStart: number, csumOffset: number, length: number): void {
  if (csumStart + csumOffset + 2 > length) {
    throw new TunError(
      OffloadErrorCode.BAD_VIRTIO_HDR,
      `checksum field at csum_start ${csumStart} + csum_offset ${csumOffset} is past the end of a ${length}-byte packet`,
    );
  }
}

/** The unchecked core of {@link completeChecksum}: the position must have been validated. */
export function completeChecksumAt(bytes: Uint8Array, offset: number, length: number, csumStart: number, csumOffset: number): void {
  const sum = sumRange(bytes, offset + csumStart, offset + length);
  writeU16(bytes, offset + csumStart + csumOffset, ~sum & 0xffff || 0xffff);
}
