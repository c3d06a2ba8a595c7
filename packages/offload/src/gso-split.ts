/**
 * GSO split: cutting a superpacket (TCPV4, TCPV6 or UDP_L4, as described by its
 * virtio_net_hdr) into the wire-sized segments a device without offload, or a
 * userspace consumer, expects. What the kernel's tcp_gso_segment and
 * __udp_gso_segment do, for packets that start at the IP header (TUN, no PI).
 *
 * ```
 * superpacket: | IP hdr | L4 hdr | payload 0 | payload 1 | ... | payload n-1 (short) |
 *                         ^csum_start        \-gso_size-/
 * segment i:   | IP hdr'| L4 hdr'| payload i |
 * ```
 *
 * Per segment: IPv4 total length, ID + i (wrapping) and header checksum;
 * IPv6 payload length (extension headers between the fixed header and
 * csum_start included); TCP sequence + i * gso_size (wrapping), FIN and PSH only
 * on the last segment, CWR only on the first; UDP length; the full L4
 * checksum, computed while the payload is copied.
 *
 * `hdr_len` is never trusted (the kernel may report the whole linear part):
 * the L4 header is found from the IP header, must equal csum_start when
 * NEEDS_CSUM is set, and its length comes from the TCP data offset (or is 8).
 *
 * Every check runs before the first output byte is written: an error leaves the
 * output buffers untouched. The input is never modified. Outputs must not
 * overlap the input. Nothing is allocated unless an error is thrown.
 */
import { checkOffset } from './argument-checks.js';
import { foldSum, ipv4AddressSum, ipv6AddressSum, sumRange } from './checksum.js';
import { checkChecksumPosition, completeChecksumAt } from './complete-checksum.js';
import { copyAndSum, copyBytes } from './copy-checksum.js';
import { malformedPacket, OffloadErrorCode } from './error-codes.js';
import { TunError } from './errors.js';
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  type VirtioNetHdr,
} from './virtio-net-hdr.js';
import { readI32, readU16, writeU16, writeU32 } from './wire/big-endian.js';
import { IpProtocol } from './wire/ip-protocol.js';
import { Ipv4Field, Ipv4Flag, IPV4_HEADER_LEN, writeIpv4HeaderChecksum } from './wire/ipv4.js';
import { findIpv6UpperLayer, type Ipv6UpperLayer } from './wire/ipv6-extension.js';
import { IPV6_HEADER_LEN, Ipv6Field } from './wire/ipv6.js';
import { TCP_HEADER_LEN, TCP_MAX_HEADER_LEN, TcpField, TcpFlag } from './wire/tcp.js';
import { UDP_HEADER_LEN, UdpField } from './wire/udp.js';

/** Where a packet (or segment) ends up: `sizes` receives each segment's length. */
export type SegmentSizes = Int32Array | number[];

// Module scratch: the IPv6 walk reports into this object instead of a new one.
const upperLayer: Ipv6UpperLayer = { protocol: 0, offset: 0 };

function badHeader(message: string): TunError {
  return new TunError(OffloadErrorCode.BAD_VIRTIO_HDR, message);
}

/**
 * Splits the superpacket `packet` (IP header first, no virtio header) described
 * by `hdr` into `bufs[i][offset, offset + sizes[i])` and returns the number of
 * segments. GSO_NONE copies the packet to `bufs[0]` and completes a NEEDS_CSUM
 * checksum. Room is `min(bufs.length, sizes.length)` segments.
 *
 * Throws (writing nothing): ERR_TUN_BAD_VIRTIO_HDR, ERR_TUN_BAD_TCP_HEADER,
 * ERR_TUN_MALFORMED_PACKET, ERR_TUN_TOO_MANY_SEGMENTS, ERR_TUN_BUFFER_TOO_SMALL,
 * ERR_TUN_INVALID_ARGUMENT (see error-codes.ts).
 */
export function splitGso(packet: Uint8Array, hdr: VirtioNetHdr, bufs: readonly Uint8Array[], sizes: SegmentSizes, offset: number): number {
  return splitPacket(packet, 0, packet.length, hdr, bufs, sizes, offset);
}

/** {@link splitGso} for the packet at `src[start, end)` (handleVirtioRead passes the read buffer past its header). */
export function splitPacket(
  src: Uint8Array,
  start: number,
  end: number,
  hdr: VirtioNetHdr,
  bufs: readonly Uint8Array[],
  sizes: SegmentSizes,
  offset: number,
): number {
  checkOffset(offset, 'splitGso');
  const len = end - start;
  const room = Math.min(bufs.length, sizes.length);
  const needsCsum = (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;

  if (hdr.gsoType === VIRTIO_NET_HDR_GSO_NONE) {
    if (room < 1) throw new TunError(OffloadErrorCode.TOO_MANY_SEGMENTS, 'no output buffer for the packet');
    const out = bufs[0];
    if (out.length - offset < len) {
      throw new TunError(OffloadErrorCode.BUFFER_TOO_SMALL, `a ${len}-byte packet does not fit bufs[0] (${out.length} bytes) at offset ${offset}`);
    }
    if (needsCsum) checkChecksumPosition(hdr.csumStart, hdr.csumOffset, len);
    copyBytes(src, start, out, offset, len);
    if (needsCsum) completeChecksumAt(out, offset, len, hdr.csumStart, hdr.csumOffset);
    sizes[0] = len;
    return 1;
  }

  // --- what kind of superpacket --------------------------------------------
  const baseType = hdr.gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
  let isTcp: boolean;
  if (baseType === VIRTIO_NET_HDR_GSO_TCPV4 || baseType === VIRTIO_NET_HDR_GSO_TCPV6) {
    isTcp = true;
  } else if (hdr.gsoType === VIRTIO_NET_HDR_GSO_UDP_L4) {
    isTcp = false;
  } else {
    throw badHeader(`unsupported gso_type ${hdr.gsoType}`);
  }
  const gsoSize = hdr.gsoSize;
  if (gsoSize === 0) throw badHeader('gso_size is 0');
  const version = len > 0 ? src[start] >> 4 : 0;
  if (
    (baseType === VIRTIO_NET_HDR_GSO_TCPV4 && version !== 4) ||
    (baseType === VIRTIO_NET_HDR_GSO_TCPV6 && version !== 6) ||
    (!isTcp && version !== 4 && version !== 6)
  ) {
    throw badHeader(`gso_type ${hdr.gsoType} does not match IP version ${version}`);
  }
  const protocol = isTcp ? IpProtocol.TCP : IpProtocol.UDP;
  const csumField = isTcp ? TcpField.CHECKSUM : UdpField.CHECKSUM;

  // --- where the L4 header is, from the IP header ------------------------------
  let l4: number;
  if (version === 4) {
    if (len < IPV4_HEADER_LEN) throw malformedPacket('IPv4 superpacket', `${len} bytes`);
    l4 = (src[start] & 0x0f) * 4;
    if (l4 < IPV4_HEADER_LEN || l4 > len) throw malformedPacket('IPv4 superpacket', `header length ${l4}`);
    if (src[start + Ipv4Field.PROTOCOL] !== protocol) {
      throw badHeader(`gso_type ${hdr.gsoType} but IPv4 protocol ${src[start + Ipv4Field.PROTOCOL]}`);
    }
    if ((readU16(src, start + Ipv4Field.FLAGS_FRAGMENT) & (Ipv4Flag.MORE_FRAGMENTS | Ipv4Flag.FRAGMENT_OFFSET_MASK)) !== 0) {
      throw malformedPacket('IPv4 superpacket', 'it is a fragment');
    }
  } else {
    if (len < IPV6_HEADER_LEN) throw malformedPacket('IPv6 superpacket', `${len} bytes`);
    if (!findIpv6UpperLayer(src, start, len, upperLayer)) {
      throw malformedPacket('IPv6 superpacket', 'an extension header runs past the end');
    }
    if (upperLayer.protocol !== protocol) {
      throw badHeader(`gso_type ${hdr.gsoType} but the IPv6 upper layer is protocol ${upperLayer.protocol}`);
    }
    l4 = upperLayer.offset - start;
  }
  if (needsCsum) {
    checkChecksumPosition(hdr.csumStart, hdr.csumOffset, len);
    if (hdr.csumStart !== l4) throw badHeader(`csum_start ${hdr.csumStart} is not the L4 header at ${l4}`);
    if (hdr.csumOffset !== csumField) {
      throw badHeader(`csum_offset ${hdr.csumOffset} is not the ${isTcp ? 'TCP' : 'UDP'} checksum field (${csumField})`);
    }
  }

  // --- header length: derived, never hdr.hdrLen --------------------------------
  let l4HeaderLen: number;
  if (isTcp) {
    if (l4 + TCP_HEADER_LEN > len) {
      throw new TunError(OffloadErrorCode.BAD_TCP_HEADER, `TCP header at ${l4} runs past the end of a ${len}-byte packet`);
    }
    l4HeaderLen = (src[start + l4 + TcpField.DATA_OFFSET] >> 4) * 4;
    if (l4HeaderLen < TCP_HEADER_LEN || l4HeaderLen > TCP_MAX_HEADER_LEN || l4 + l4HeaderLen > len) {
      throw new TunError(OffloadErrorCode.BAD_TCP_HEADER, `TCP data offset ${l4HeaderLen} (outside 20..60 or past the end)`);
    }
  } else {
    if (l4 + UDP_HEADER_LEN > len) throw malformedPacket('UDP superpacket', `UDP header at ${l4} runs past the end`);
    l4HeaderLen = UDP_HEADER_LEN;
  }
  const hdrLen = l4 + l4HeaderLen;
  const payloadLen = len - hdrLen;
  const count = payloadLen <= gsoSize ? 1 : Math.ceil(payloadLen / gsoSize);
  const fullLen = hdrLen + Math.min(gsoSize, payloadLen);
  if (version === 4 ? fullLen > 0xffff : fullLen - IPV6_HEADER_LEN > 0xffff) {
    throw badHeader(`gso_size ${gsoSize} makes ${fullLen}-byte segments, longer than the IP length field allows`);
  }

  // --- room for every segment --------------------------------------------------
  if (count > room) {
    throw new TunError(OffloadErrorCode.TOO_MANY_SEGMENTS, `the packet splits into ${count} segments, room for ${room}`);
  }
  for (let i = 0; i < count; i++) {
    const segLen = i === count - 1 ? len - i * gsoSize : fullLen;
    if (bufs[i].length - offset < segLen) {
      throw new TunError(
        OffloadErrorCode.BUFFER_TOO_SMALL,
        `segment ${i} (${segLen} bytes) does not fit bufs[${i}] (${bufs[i].length} bytes) at offset ${offset}`,
      );
    }
  }

  // --- write -------------------------------------------------------------------
  const addrSum = version === 4 ? ipv4AddressSum(src, start) : ipv6AddressSum(src, start);
  const firstId = version === 4 ? readU16(src, start + Ipv4Field.IDENTIFICATION) : 0;
  const firstSeq = isTcp ? readI32(src, start + l4 + TcpField.SEQUENCE) : 0; // int32: see readI32
  const tcpFlags = isTcp ? src[start + l4 + TcpField.FLAGS] : 0;
  let payloadAt = start + hdrLen;
  for (let i = 0; i < count; i++) {
    const out = bufs[i];
    const segPayload = i === count - 1 ? payloadLen - i * gsoSize : gsoSize;
    const segLen = hdrLen + segPayload;
    copyBytes(src, start, out, offset, hdrLen);
    if (version === 4) {
      writeU16(out, offset + Ipv4Field.TOTAL_LENGTH, segLen);
      writeU16(out, offset + Ipv4Field.IDENTIFICATION, firstId + i);
      writeIpv4HeaderChecksum(out, offset);
    } else {
      writeU16(out, offset + Ipv6Field.PAYLOAD_LENGTH, segLen - IPV6_HEADER_LEN);
    }
    const l4At = offset + l4;
    const l4Len = segLen - l4;
    if (isTcp) {
      writeU32(out, l4At + TcpField.SEQUENCE, (firstSeq + i * gsoSize) | 0);
      let flags = tcpFlags;
      if (i !== count - 1) flags &= ~(TcpFlag.FIN | TcpFlag.PSH);
      if (i !== 0) flags &= ~TcpFlag.CWR;
      out[l4At + TcpField.FLAGS] = flags;
    } else {
      writeU16(out, l4At + UdpField.LENGTH, l4Len);
    }
    out[l4At + csumField] = 0;
    out[l4At + csumField + 1] = 0;
    // The payload starts an even number of bytes after the L4 header, so the
    // sums of header and payload add up lane for lane.
    const payloadSum = copyAndSum(src, payloadAt, out, offset + hdrLen, segPayload);
    const sum = foldSum(addrSum + protocol + l4Len + sumRange(out, l4At, offset + hdrLen) + payloadSum);
    let checksum = ~sum & 0xffff;
    if (!isTcp && checksum === 0) checksum = 0xffff;
    writeU16(out, l4At + csumField, checksum);
    sizes[i] = segLen;
    payloadAt += segPayload;
  }
  return count;
}
