/** @tunpipe/offload: wire views, checksums, virtio-net header, GSO split and GRO coalescing. */
export { TunError, isTunError, errnoName, type TunErrorCode, type TunErrorDetails } from './errors.js';
export { describeValue } from './describe-value.js';
export { OffloadErrorCode } from './error-codes.js';

// Checksums (RFC 1071) and pseudo-headers.
export {
  onesComplementSum,
  internetChecksum,
  foldSum,
  addSums,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
} from './checksum.js';
export { completeChecksum } from './complete-checksum.js';

// virtio_net_hdr and the batch API.
export {
  VIRTIO_NET_HDR_LEN,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_RSC_INFO,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VIRTIO_NET_HDR_GSO_ECN,
  VirtioNetHdrField,
  createVirtioNetHdr,
  decodeVirtioNetHdr,
  encodeVirtioNetHdr,
  type VirtioNetHdr,
} from './virtio-net-hdr.js';
export { IDEAL_BATCH_SIZE } from './batch-size.js';
export { forgetRecentViews } from './buffer-views.js';
export { handleVirtioRead } from './virtio-read.js';
export { splitGso, type SegmentSizes } from './gso-split.js';
export { GroTable } from './gro-table.js';
export { handleGro, UDP_GRO_MAX_SEGMENTS, GRO_MAX_PACKET, type GroOptions, type PacketLengths } from './gro.js';
export { GroCandidate, groCandidate } from './gro-candidate.js';

// Wire views.
export { IpProtocol } from './wire/ip-protocol.js';
export { parseIpv4, parseIpv6, parseIpAddress, formatIpv4, formatIpv6 } from './wire/ip-address.js';
export { Ipv4Packet, Ipv4Field, Ipv4Flag, IPV4_HEADER_LEN } from './wire/ipv4.js';
export { Ipv6Packet, Ipv6Field, IPV6_HEADER_LEN } from './wire/ipv6.js';
export { findIpv6UpperLayer, type Ipv6UpperLayer } from './wire/ipv6-extension.js';
export { TcpSegment, TcpField, TcpFlag, TCP_HEADER_LEN, TCP_MAX_HEADER_LEN } from './wire/tcp.js';
export { UdpDatagram, UdpField, UDP_HEADER_LEN } from './wire/udp.js';
export { Icmpv4Message, Icmpv4Field, Icmpv4Type, ICMPV4_HEADER_LEN } from './wire/icmpv4.js';
export { Icmpv6Message, Icmpv6Field, Icmpv6Type, ICMPV6_HEADER_LEN } from './wire/icmpv6.js';
export { EthernetFrame, EthernetField, EtherType, ETHERNET_HEADER_LEN, formatMac } from './wire/ethernet.js';

// Packet builders (tests, crafting packets).
export { buildIpPacket, type IpHeaderOptions, type Ipv6ExtensionHeader } from './build/ip.js';
export { buildTcpPacket, type TcpPacketOptions } from './build/tcp.js';
export { buildUdpPacket, type UdpPacketOptions } from './build/udp.js';
export { buildIcmpPacket, type IcmpPacketOptions } from './build/icmp.js';
export { buildEthernetFrame, parseMac, type EthernetFrameOptions } from './build/ethernet.js';
export { buildVirtioPacket, type VirtioPacketOptions } from './build/virtio.js';
export { patternBytes, type PayloadOption } from './build/pattern.js';
